"""Forms of the staff and token pages. Messages are Japanese and rendered beside their field."""

from __future__ import annotations

from django import forms

from lgcloud.core.permissions import MUNICIPAL_ROLES, ROLE_LABELS, Role

MUNICIPAL_ROLE_CHOICES = [(r.value, ROLE_LABELS[r]) for r in Role if r in MUNICIPAL_ROLES]


class StaffCreateForm(forms.Form):
    username = forms.CharField(
        label="ユーザー名", max_length=64, help_text="半角英小文字・数字・「.」「_」「-」（2〜64文字）"
    )
    display_name = forms.CharField(label="氏名", max_length=100)
    roles = forms.MultipleChoiceField(
        label="ロール",
        choices=MUNICIPAL_ROLE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "ロールを1つ以上選んでください。"},
    )


class StaffRolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label="ロール",
        choices=MUNICIPAL_ROLE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "ロールを1つ以上選んでください。"},
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(label="用途", max_length=100, help_text="例: 住民異動の一括照会（RPA）")
    days = forms.IntegerField(label="有効期間（日）", min_value=1, max_value=366, initial=90)
