"""Page forms. Messages are Japanese and rendered beside their field."""

from __future__ import annotations

from django import forms

from lgcloud.core.permissions import MUNICIPAL_ROLES, ROLE_LABELS, Role

MUNICIPAL_ROLE_CHOICES = [(r.value, ROLE_LABELS[r]) for r in Role if r in MUNICIPAL_ROLES]


class LoginForm(forms.Form):
    lg_code = forms.CharField(
        label="団体コード",
        max_length=6,
        required=False,
        help_text="6桁の全国地方公共団体コード（例: 131016）。運用者は空欄。",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "organization"}),
    )
    username = forms.CharField(
        label="ユーザー名", max_length=64, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        label="パスワード", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class OtpForm(forms.Form):
    token = forms.CharField(
        label="確認コード（6桁）",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
        help_text="認証アプリに表示されている6桁の数字",
    )
