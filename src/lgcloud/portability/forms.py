"""Forms of the export-request pages (messages in Japanese, beside their field)."""

from __future__ import annotations

from django import forms


class ExportRequestForm(forms.Form):
    purpose = forms.CharField(
        label="出力の目的・理由",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="例: 標準準拠システムへの移行のため（ベンダー名・移行日）。承認者と監査ログが確認します。",
        error_messages={"required": "出力の目的・理由を入力してください。"},
    )
    include_individual_numbers = forms.BooleanField(
        label="個人番号を含める（番号法で認められた移行作業に必要な場合だけ）", required=False
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="却下の理由",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "却下の理由を入力してください。"},
    )
