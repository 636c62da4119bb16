"""Page forms. Messages are Japanese and rendered beside their field."""

from __future__ import annotations

from django import forms

from lgcloud.core.permissions import MUNICIPAL_ROLES, ROLE_LABELS, Role
from lgcloud.municipalities.models import Municipality

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
