"""Forms of the ops pages. Messages are Japanese and rendered beside their field."""

from __future__ import annotations

import re
from datetime import date

from django import forms

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class MonthForm(forms.Form):
    month = forms.CharField(
        label="年月",
        max_length=7,
        help_text="YYYY-MM（例: 2026-11）",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_month(self) -> str:
        value = str(self.cleaned_data["month"]).strip()
        if not _MONTH.match(value):
            raise forms.ValidationError("年月は YYYY-MM の形で入力してください（例: 2026-11）。")
        return value


class BaselineForm(forms.Form):
    annual_yen = forms.IntegerField(
        label="平成30年度の年間経費（円）",
        min_value=1,
        max_value=10**13,
        help_text="lgcloud に移した業務のシステムに平成30年度に支出した経費の合計（税込、円）",
        error_messages={
            "required": "金額を入力してください。",
            "invalid": "金額は半角数字（円、整数）で入力してください。",
            "min_value": "1 円以上の金額を入力してください。",
            "max_value": "金額が大きすぎます。年間の経費を円で入力してください。",
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    note = forms.CharField(
        label="内訳・出典",
        max_length=400,
        required=False,
        help_text="例: 決算書の該当費目、契約名",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReleaseForm(forms.Form):
    reference_date = forms.DateField(
        label="基準日",
        help_text="人口・世帯を数える日（YYYY-MM-DD）",
        error_messages={
            "required": "基準日を入力してください。",
            "invalid": "日付は YYYY-MM-DD の形で入力してください。",
        },
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    changes_since = forms.DateField(
        label="異動の集計開始日",
        help_text="異動件数を数え始める日（YYYY-MM-DD）。基準日までを月別に数えます。",
        error_messages={
            "required": "異動の集計開始日を入力してください。",
            "invalid": "日付は YYYY-MM-DD の形で入力してください。",
        },
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        ref, since = data.get("reference_date"), data.get("changes_since")
        if isinstance(ref, date) and isinstance(since, date) and since > ref:
            self.add_error("changes_since", "異動の集計開始日は基準日以前の日付にしてください。")
        return data
