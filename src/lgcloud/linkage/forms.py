"""Forms of the linkage staff pages (Japanese labels, errors beside the field)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from .models import DeliveryStatus


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(label="状態", required=False, choices=[("", "すべて"), *DeliveryStatus.choices])


class TransferConfirmForm(forms.Form):
    address = forms.CharField(label="新しい住所", max_length=200)
    address_detail = forms.CharField(label="方書", max_length=100, required=False)
    effective_date = forms.DateField(
        label="転入日（異動日）", help_text="YYYY-MM-DD", widget=forms.DateInput(attrs={"autocomplete": "off"})
    )
    filed_on = forms.DateField(
        label="届出日", help_text="YYYY-MM-DD", widget=forms.DateInput(attrs={"autocomplete": "off"})
    )
    head = forms.ChoiceField(label="世帯主")
    confirm_duplicates = forms.BooleanField(label="同一人の可能性の警告を確認済み", required=False)

    def __init__(self, *args: Any, persons: list[dict[str, Any]], today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["head"].choices = [  # type: ignore[attr-defined]
            (p["source_atena_number"], f"{p.get('family_name', '')}　{p.get('given_name', '')}") for p in persons
        ]
        default = next((p["source_atena_number"] for p in persons if p.get("is_household_head")), None)
        self.initial.setdefault("head", default or (persons[0]["source_atena_number"] if persons else ""))
        self.initial.setdefault("effective_date", today)
        self.initial.setdefault("filed_on", today)
