"""The audit log's search form."""

from __future__ import annotations

from django import forms


class AuditFilterForm(forms.Form):
    date_from = forms.DateField(label="開始日", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="終了日", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    action = forms.CharField(label="操作（前方一致）", required=False, max_length=100, help_text="例: accounts.staff")
    actor = forms.CharField(label="操作者", required=False, max_length=150)
    subject_id = forms.CharField(label="対象ID", required=False, max_length=100)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "終了日は開始日以降の日付にしてください。")
        return data
