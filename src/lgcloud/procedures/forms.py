"""Django forms built from a procedure definition (rendering and collecting raw values only).

Validation is the definition's (rules/fields.py, through actions.submit), so the page and the
API-free counter mode refuse exactly the same input. Every control works without JavaScript.
"""

from __future__ import annotations

from typing import Any

from django import forms

from .rules.definitions import Definition, FieldSpec


def _django_field(spec: FieldSpec) -> forms.Field:
    common: dict[str, Any] = {"label": spec.label, "required": False, "help_text": spec.help}
    field: forms.Field
    if spec.type == "textarea":
        field = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), **common)
    elif spec.type == "date":
        field = forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    elif spec.type == "integer":
        field = forms.CharField(widget=forms.NumberInput(attrs={"min": spec.min, "max": spec.max}), **common)
    elif spec.type == "choice":
        field = forms.ChoiceField(
            choices=[(c.value, c.label) for c in spec.choices], widget=forms.RadioSelect, **common
        )
    elif spec.type == "email":
        field = forms.CharField(widget=forms.EmailInput(attrs={"autocomplete": "email"}), **common)
    elif spec.type == "boolean":
        field = forms.BooleanField(**common)
    elif spec.type == "digits":
        field = forms.CharField(
            widget=forms.TextInput(attrs={"inputmode": "numeric", "maxlength": spec.length}), **common
        )
    else:
        field = forms.CharField(widget=forms.TextInput(attrs={"maxlength": spec.max_length}), **common)
    setattr(field, "lg_required", spec.required)  # noqa: B010  (read by the template)
    setattr(field, "lg_type", spec.type)  # noqa: B010
    return field


def procedure_form(definition: Definition, data: Any = None, files: Any = None, initial: Any = None) -> forms.Form:
    form = forms.Form(data=data, files=files, initial=initial)
    for spec in definition.fields:
        form.fields[spec.name] = _django_field(spec)
    for p in definition.prefill:
        form.fields[f"dispute_{p.field}"] = forms.CharField(
            label=f"「{p.label}」が違う場合",
            required=False,
            max_length=500,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text="正しい内容を書いてください。職員が確認します（住民記録は自動では変わりません）。",
        )
    for a in definition.attachments:
        f = forms.FileField(label=a.label, required=False)
        setattr(f, "lg_required", a.required)  # noqa: B010
        setattr(f, "lg_type", "file")  # noqa: B010
        form.fields[f"file_{a.name}"] = f
    return form


class CounterStartForm(forms.Form):
    procedure = forms.ChoiceField(label="手続")
    atena_number = forms.CharField(label="申請者の宛名番号", max_length=10)
    identity_checked = forms.BooleanField(label="申請者ご本人がいることを本人確認書類で確認した", required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            setattr(field, "lg_required", True)  # noqa: B010  (read by procedures/_field.html)
            setattr(field, "lg_type", "boolean" if name == "identity_checked" else "text")  # noqa: B010

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"field": self[name], "error": " ".join(str(e) for e in self.errors.get(name, []))} for name in self.fields
        ]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="理由（申請者に伝わります）", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False
    )
