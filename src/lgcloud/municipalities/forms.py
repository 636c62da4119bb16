"""Forms of the operator's municipality pages and of the app directory."""

from __future__ import annotations

from django import forms

from .models import Municipality


class MunicipalityCreateForm(forms.Form):
    lg_code = forms.CharField(
        label="団体コード",
        min_length=6,
        max_length=6,
        help_text="6桁（検査数字を含む）",
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    name = forms.CharField(label="団体名", max_length=40)
    name_kana = forms.CharField(label="団体名カナ", max_length=80)
    prefecture = forms.CharField(label="都道府県", max_length=10)
    county = forms.CharField(label="郡", max_length=20, required=False)
    kind = forms.ChoiceField(label="区分", choices=Municipality.Kind.choices)


class MunicipalityEditForm(forms.Form):
    kyuchi = forms.ChoiceField(
        label="級地",
        required=False,
        choices=[("", "未設定"), *Municipality.Kyuchi.choices],
    )
    on_platform = forms.BooleanField(label="本基盤を利用中", required=False)


class AppRequestForm(forms.Form):
    """A 団体管理者's request to use an implementation of a 業務 from a date."""

    app_id = forms.ChoiceField(label="業務アプリ（実装）", help_text="業務と実装の組です。")
    effective_from = forms.DateField(
        label="適用開始日",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="この日から、この業務の画面・API・申請・連携がこの実装で処理されます。",
    )
    note = forms.CharField(label="申請の理由", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: object, implementations: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["app_id"].choices = [("", "選択してください"), *implementations]  # type: ignore[attr-defined]


class AppDecisionForm(forms.Form):
    """The operator's decision on one request (prefixed with the request, several are on one page)."""

    DECISIONS = (("approve", "承認する"), ("reject", "却下する"))

    reason = forms.CharField(
        label="理由（却下のときは必須。団体管理者に伝わります）",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
