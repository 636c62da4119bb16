"""Forms of the 住民記録 pages. Messages are Japanese and rendered beside their field.

The forms check only what a form can know (required, a date is a date, a choice is
one of the offered); the rules of the register are the actions' (registry.actions),
whose messages the views put beside the same fields.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django import forms

from lgcloud.core import wareki

from .codes import ChangeType, MoveInOrigin, Relationship, Sex

DATE_HELP = "例: 2025-04-01、令和7年4月1日、R7.4.1"
_ISO = re.compile(r"(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?")


def parse_japanese_date(text: str) -> date:
    """A date typed as 西暦 (2025-04-01, 2025/4/1, 2025年4月1日) or 和暦 (令和7年4月1日, R7.4.1).

    Raises ``forms.ValidationError`` with a Japanese message.
    """
    cleaned = "".join(unicodedata.normalize("NFKC", text).split())
    match = _ISO.fullmatch(cleaned)
    if match:
        try:
            return date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            raise forms.ValidationError("存在しない日付です。", code="invalid") from None
    if cleaned[:1].isdigit():
        raise forms.ValidationError(f"日付は {DATE_HELP.removeprefix('例: ')} の形で入力してください。", code="invalid")
    try:
        return wareki.parse_date(cleaned)
    except wareki.WarekiError as exc:
        raise forms.ValidationError(exc.message, code="invalid") from None


class JapaneseDateField(forms.Field):
    """A text box for a date: 西暦 or 和暦, so a clerk types what the 届書 says."""

    def __init__(self, *, help_text: str = DATE_HELP, **kwargs: Any) -> None:
        attrs = {"autocomplete": "off", "class": "input--date", "maxlength": "20"}
        super().__init__(help_text=help_text, widget=forms.TextInput(attrs=attrs), **kwargs)

    def prepare_value(self, value: Any) -> Any:
        return value.isoformat() if isinstance(value, date) else value

    def to_python(self, value: Any) -> date | None:
        if isinstance(value, date):
            return value
        text = str(value or "").strip()
        if not text:
            return None
        if len(text) > 20:
            raise forms.ValidationError("日付は20文字以内で入力してください。", code="max_length")
        return parse_japanese_date(text)


def _choices(options: Iterable[tuple[str, str]], blank: str = "選択してください") -> list[tuple[str, str]]:
    return [("", blank), *options]


RELATIONSHIP_CHOICES = _choices(Relationship.choices)
SEX_CHOICES = _choices(Sex.choices)
MEMBER_BLANK = "（選ばない）"


def _name(label: str, *, required: bool = True, help_text: str = "") -> forms.CharField:
    # Names are kept exactly as typed (IVS, 𠮷): no normalisation here, only the outer spaces go.
    return forms.CharField(
        label=label,
        max_length=100,
        required=required,
        help_text=help_text,
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "input--name"}),
    )


def _kana(label: str, *, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=100,
        required=required,
        help_text="全角カタカナ（ひらがな・半角カナも可）",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


def _filed_on(required: bool = True) -> JapaneseDateField:
    return JapaneseDateField(label="届出日", required=required)


def _reason(label: str = "理由・備考", *, required: bool = False, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=500,
        required=required,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _set_choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(name)
    field.choices = choices


def _member_choices(members: Sequence[Any], blank: str | None = None) -> list[tuple[str, str]]:
    options = [(m.atena_number, f"{m.full_name}（{m.atena_number}）") for m in members]
    return [("", blank), *options] if blank is not None else options


# --- 検索 -----------------------------------------------------------------------------------------


class SearchForm(forms.Form):
    name = forms.CharField(
        label="氏名（漢字）",
        required=False,
        max_length=100,
        help_text="前方一致・異体字も可",
        widget=forms.TextInput(attrs={"type": "search", "autofocus": True, "autocomplete": "off"}),
    )
    kana = forms.CharField(
        label="カナ",
        required=False,
        max_length=100,
        help_text="前方一致・ひらがな可",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    birth_date = JapaneseDateField(label="生年月日", required=False, help_text="西暦・和暦（S55.4.1）")
    address = forms.CharField(
        label="住所",
        required=False,
        max_length=200,
        help_text="前方一致",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    atena_number = forms.CharField(
        label="宛名番号",
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    household_number = forms.CharField(
        label="世帯番号",
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    include_removed = forms.BooleanField(label="除票を含む", required=False)

    def clean_atena_number(self) -> str:
        return _digits(self.cleaned_data["atena_number"], "宛名番号")

    def clean_household_number(self) -> str:
        return _digits(self.cleaned_data["household_number"], "世帯番号")


def _digits(value: str, label: str) -> str:
    value = unicodedata.normalize("NFKC", value).strip()
    if value and not value.isdigit():
        raise forms.ValidationError(f"{label}は数字で入力してください。")
    # 宛名番号 and 世帯番号 are 10 digits; a clerk may type them without the leading zeros.
    return value.zfill(10) if value else ""


class AsOfForm(forms.Form):
    as_of = JapaneseDateField(label="基準日")


class RevealForm(forms.Form):
    purpose = forms.CharField(
        label="利用目的（事務の名称）",
        max_length=100,
        help_text="番号法 別表に定める事務の名称（例: 児童手当の認定）。表示したことは目的とともに記録されます。",
        error_messages={"required": "個人番号を表示する事務（利用目的）を入力してください。"},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


# --- 転入・職権記載・出生 ---------------------------------------------------------------------------


class PersonForm(forms.Form):
    """One person entering the register."""

    family_name = _name("氏")
    given_name = _name("名", required=False)
    family_name_kana = _kana("氏（カナ）")
    given_name_kana = _kana("名（カナ）", required=False)
    birth_date = JapaneseDateField(label="生年月日")
    sex = forms.ChoiceField(label="性別", choices=SEX_CHOICES)
    relationship = forms.ChoiceField(label="続柄", choices=RELATIONSHIP_CHOICES)
    registered_domicile = forms.CharField(label="本籍", max_length=200, required=False)
    domicile_head = _name("筆頭者", required=False)
    individual_number = forms.CharField(
        label="個人番号",
        max_length=12,
        required=False,
        help_text="12桁（分かる場合のみ）。画面には再表示されません。",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_individual_number(self) -> str:
        return unicodedata.normalize("NFKC", self.cleaned_data["individual_number"]).strip()


MAX_PERSONS = 6
PersonFormSet = forms.formset_factory(
    PersonForm,
    extra=MAX_PERSONS - 1,
    min_num=1,
    max_num=MAX_PERSONS,
    validate_min=True,
    validate_max=True,
    absolute_max=MAX_PERSONS,
)


class MoveInForm(forms.Form):
    """転入 (and 職権記載: the same form without 届出日)."""

    origin = forms.ChoiceField(label="転入の区分", choices=MoveInOrigin.choices, initial=MoveInOrigin.DOMESTIC)
    previous_address = forms.CharField(
        label="従前の住所", max_length=200, help_text="転出証明書等に記載の住所（国外からは国名・都市名）"
    )
    address = forms.CharField(label="新住所", max_length=200)
    address_detail = forms.CharField(label="方書", max_length=100, required=False, help_text="建物名・部屋番号など")
    effective_date = JapaneseDateField(label="異動日（転入した日）")
    filed_on = _filed_on()
    household_number = forms.CharField(
        label="加わる世帯の世帯番号",
        max_length=10,
        required=False,
        help_text="既存の世帯に加わる場合のみ。空欄なら新しい世帯になります。",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    reason = _reason()

    def __init__(self, *args: Any, ex_officio: bool = False, confirm: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if ex_officio:
            del self.fields["filed_on"]
            self.fields["effective_date"].label = "異動日（住所を定めた日）"
            self.fields["reason"] = _reason("記載の理由", required=True, help_text="職権で記載する理由（調査結果など）")
        # Shown only once the register has found someone alike (PossibleDuplicate); the page
        # then carries duplicate_seen=1 so the box stays while the clerk corrects other fields.
        self.show_confirm = confirm or (self.is_bound and self.data.get("duplicate_seen") == "1")
        if self.show_confirm:
            self.fields["confirm_duplicates"] = forms.BooleanField(
                label="同一人でないことを確認しました", required=False
            )

    def clean_household_number(self) -> str:
        return _digits(self.cleaned_data["household_number"], "世帯番号")


class BirthForm(PersonForm):
    """出生: the child joins this household; the birth date is the 異動日."""

    filed_on = _filed_on()
    reason = _reason()

    field_order = [
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "birth_date",
        "sex",
        "relationship",
        "registered_domicile",
        "domicile_head",
        "individual_number",
        "filed_on",
        "reason",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["birth_date"].label = "生年月日（異動日）"


# --- 死亡・転出・転居 ---------------------------------------------------------------------------


class DeathForm(forms.Form):
    effective_date = JapaneseDateField(label="死亡日（異動日）")
    filed_on = _filed_on()
    new_head = forms.ChoiceField(
        label="新しい世帯主", required=False, help_text="亡くなった方が世帯主で、世帯に残る方がいる場合に選びます。"
    )
    reason = _reason()

    def __init__(self, *args: Any, others: Sequence[Any] = (), is_head: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if is_head and others:
            _set_choices(self, "new_head", _member_choices(others, "選択してください"))
            self.fields["new_head"].required = True
        else:
            del self.fields["new_head"]


class MoveOutForm(forms.Form):
    members = forms.MultipleChoiceField(
        label="転出する方",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "転出する方を1人以上選んでください。"},
    )
    destination = forms.CharField(label="転出先", max_length=200, help_text="新しい住所（国外転出は国名・都市名）")
    planned_date = JapaneseDateField(label="転出予定日（異動日）")
    filed_on = _filed_on()
    new_head = forms.ChoiceField(
        label="残る世帯の新しい世帯主",
        required=False,
        help_text="世帯主が転出し、世帯に残る方がいる場合に選びます。",
    )
    reason = _reason()

    def __init__(self, *args: Any, members: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "members", _member_choices(members))
        _set_choices(self, "new_head", _member_choices(members, MEMBER_BLANK))
        self._members = list(members)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        leaving = set(data.get("members") or [])
        head = next((m.atena_number for m in self._members if m.relationship == Relationship.HEAD), None)
        staying = [m.atena_number for m in self._members if m.atena_number not in leaving]
        new_head = data.get("new_head")
        if "members" in data and head in leaving and staying and not new_head:
            self.add_error("new_head", "世帯主が転出します。残る方から新しい世帯主を選んでください。")
        elif new_head and new_head in leaving:
            self.add_error("new_head", "新しい世帯主は世帯に残る方から選んでください。")
        return data


class ConfirmMoveOutForm(forms.Form):
    members = forms.MultipleChoiceField(
        label="転出を確定する方",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "転出を確定する方を1人以上選んでください。"},
    )
    effective_date = JapaneseDateField(label="転出日（異動日）", help_text="転出確定通知に記載の日。" + DATE_HELP)
    notified_on = JapaneseDateField(label="通知を受けた日", required=False)
    reason = _reason()

    def __init__(self, *args: Any, members: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "members", _member_choices(members))


class AddressChangeForm(forms.Form):
    members = forms.MultipleChoiceField(
        label="転居する方",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "転居する方を1人以上選んでください。"},
    )
    address = forms.CharField(label="新しい住所", max_length=200)
    address_detail = forms.CharField(label="方書", max_length=100, required=False, help_text="建物名・部屋番号など")
    effective_date = JapaneseDateField(label="異動日（転居した日）")
    filed_on = _filed_on()
    new_household_head = forms.ChoiceField(
        label="転居先の世帯の世帯主",
        required=False,
        help_text="世帯の一部の方だけが転居する場合（新しい世帯になります）に、転居する方から選びます。",
    )
    remaining_head = forms.ChoiceField(
        label="残る世帯の新しい世帯主",
        required=False,
        help_text="世帯主が転居し、残る方がいる場合に、残る方から選びます。",
    )
    reason = _reason()

    def __init__(self, *args: Any, members: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._members = list(members)
        _set_choices(self, "members", _member_choices(members))
        _set_choices(self, "new_household_head", _member_choices(members, MEMBER_BLANK))
        _set_choices(self, "remaining_head", _member_choices(members, MEMBER_BLANK))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "members" not in data:
            return data
        moving = set(data["members"])
        everyone = {m.atena_number for m in self._members}
        head = next((m.atena_number for m in self._members if m.relationship == Relationship.HEAD), None)
        new_head, remaining = data.get("new_household_head"), data.get("remaining_head")
        whole = moving >= everyone
        if whole:
            if new_head:
                self.add_error(
                    "new_household_head", "世帯全員の転居では、転居先の世帯主は選びません（空欄にしてください）。"
                )
            if remaining:
                self.add_error(
                    "remaining_head", "世帯全員の転居では、残る世帯の世帯主は選びません（空欄にしてください）。"
                )
            return data
        if not new_head:
            self.add_error(
                "new_household_head", "世帯の一部の方の転居です。転居する方から転居先の世帯主を選んでください。"
            )
        elif new_head not in moving:
            self.add_error("new_household_head", "転居先の世帯主は転居する方から選んでください。")
        if head in moving and not remaining:
            self.add_error("remaining_head", "世帯主が転居します。残る方から新しい世帯主を選んでください。")
        elif remaining and remaining in moving:
            self.add_error("remaining_head", "残る世帯の世帯主は転居しない方から選んでください。")
        elif remaining and head not in moving:
            self.add_error(
                "remaining_head", "世帯主は転居しないため、残る世帯の世帯主は選びません（空欄にしてください）。"
            )
        return data


# --- 世帯変更 ---------------------------------------------------------------------------------

HOUSEHOLD_CHANGE_TYPES = [
    (ChangeType.HOUSEHOLD_HEAD_CHANGE.value, ChangeType.HOUSEHOLD_HEAD_CHANGE.label),
    (ChangeType.HOUSEHOLD_COMPOSITION.value, ChangeType.HOUSEHOLD_COMPOSITION.label),
    (ChangeType.HOUSEHOLD_SPLIT.value, ChangeType.HOUSEHOLD_SPLIT.label),
    (ChangeType.HOUSEHOLD_MERGE.value, ChangeType.HOUSEHOLD_MERGE.label),
]


class HouseholdChangeForm(forms.Form):
    change_type = forms.ChoiceField(label="異動の種類", choices=_choices(HOUSEHOLD_CHANGE_TYPES))
    effective_date = JapaneseDateField(label="異動日")
    filed_on = _filed_on()
    merge_into = forms.CharField(
        label="合併先の世帯番号",
        max_length=10,
        required=False,
        help_text="世帯合併のときだけ入力します。選んだ方がこの世帯に加わります。",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    reason = _reason()

    def __init__(self, *args: Any, members: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.member_fields: list[str] = []
        for m in members:
            name = f"rel_{m.atena_number}"
            self.fields[name] = forms.ChoiceField(
                label=f"{m.full_name}（{m.atena_number}）の続柄",
                required=False,
                choices=[("", "変更しない（対象外）"), *Relationship.choices],
            )
            self.initial.setdefault(name, m.relationship)
            self.member_fields.append(name)

    def clean_merge_into(self) -> str:
        return _digits(self.cleaned_data["merge_into"], "合併先の世帯番号")

    def relationships(self) -> dict[str, str]:
        return {
            name.removeprefix("rel_"): self.cleaned_data[name]
            for name in self.member_fields
            if self.cleaned_data.get(name)
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("change_type")
        if kind == ChangeType.HOUSEHOLD_MERGE and not data.get("merge_into"):
            self.add_error("merge_into", "世帯合併では合併先の世帯番号を入力してください。")
        if kind and kind != ChangeType.HOUSEHOLD_MERGE and data.get("merge_into"):
            self.add_error("merge_into", "合併先の世帯番号は世帯合併のときだけ入力します。")
        if kind and self.member_fields and not any(data.get(n) for n in self.member_fields):
            self.add_error(self.member_fields[0], "対象の方の続柄を1人以上選んでください。")
        return data

    @property
    def member_bound_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.member_fields]

    @property
    def other_bound_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in self.member_fields]


# --- 氏名変更・職権 ------------------------------------------------------------------------------


class NameChangeForm(forms.Form):
    family_name = _name("新しい氏")
    given_name = _name("新しい名", required=False)
    family_name_kana = _kana("新しい氏（カナ）")
    given_name_kana = _kana("新しい名（カナ）", required=False)
    keep_former_family_name = forms.BooleanField(label="これまでの氏を旧氏として記載する", required=False)
    effective_date = JapaneseDateField(label="異動日（戸籍の届出の日など）")
    filed_on = _filed_on()
    reason = _reason(help_text="例: 婚姻による氏の変更")


CORRECTABLE_LABELS = {
    "family_name": "氏",
    "given_name": "名",
    "family_name_kana": "氏（カナ）",
    "given_name_kana": "名（カナ）",
    "birth_date": "生年月日",
    "sex": "性別",
    "address": "住所",
    "address_detail": "方書",
    "previous_address": "従前の住所",
    "registered_domicile": "本籍",
    "domicile_head": "筆頭者",
    "former_family_name": "旧氏",
    "alias": "通称",
    "voter_registered": "選挙人名簿登録",
}
# Items that may be corrected to blank.
_MAY_BE_BLANK = {"given_name", "given_name_kana", "address_detail", "previous_address", "former_family_name", "alias"}


class CorrectionForm(forms.Form):
    """職権修正: the items shown hold the current values; the ones the clerk changes are corrected."""

    corrects_change = forms.ChoiceField(label="修正する異動", help_text="誤りのある記載をした異動を選びます。")
    family_name = _name("氏", required=False)
    given_name = _name("名", required=False)
    family_name_kana = _kana("氏（カナ）", required=False)
    given_name_kana = _kana("名（カナ）", required=False)
    birth_date = JapaneseDateField(label="生年月日", required=False)
    sex = forms.ChoiceField(label="性別", choices=Sex.choices, required=False)
    address = forms.CharField(label="住所", max_length=200, required=False)
    address_detail = forms.CharField(label="方書", max_length=100, required=False)
    previous_address = forms.CharField(label="従前の住所", max_length=200, required=False)
    registered_domicile = forms.CharField(label="本籍", max_length=200, required=False)
    domicile_head = _name("筆頭者", required=False)
    former_family_name = _name("旧氏", required=False)
    alias = forms.CharField(label="通称", max_length=100, required=False)
    voter_registered = forms.ChoiceField(
        label="選挙人名簿登録", choices=[("yes", "登録あり"), ("no", "登録なし")], required=False
    )
    reason = _reason("修正の理由", required=True, help_text="例: 届書の記載誤り（転入届の生年月日）")

    ITEMS = tuple(CORRECTABLE_LABELS)

    def __init__(self, *args: Any, history: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(
            self,
            "corrects_change",
            _choices(
                (str(h.change_number), f"{h.effective_date.isoformat()} {h.change_label}（異動番号 {h.change_number}）")
                for h in history
                if h.change_type != ChangeType.EX_OFFICIO_CORRECTION
            ),
        )

    def corrections(self) -> dict[str, Any]:
        changed: dict[str, Any] = {}
        for name in self.ITEMS:
            if name not in self.changed_data:
                continue
            value = self.cleaned_data.get(name)
            if name == "voter_registered":
                value = value == "yes"
            elif name == "birth_date":
                value = value.isoformat() if value else None
            changed[name] = value
        return changed

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in self.ITEMS:
            blank = data.get(name) in ("", None) and name not in self.errors
            if blank and name in self.changed_data and name not in _MAY_BE_BLANK:
                self.add_error(name, f"{CORRECTABLE_LABELS[name]}は空欄にできません。")
        if not self.errors and not self.corrections():
            self.add_error(None, "修正する項目の値を書き換えてください（どの項目も現在の記載と同じです）。")
        return data

    @property
    def item_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.ITEMS]


class RemovalForm(forms.Form):
    effective_date = JapaneseDateField(label="消除の日（異動日）")
    reason = _reason("消除の理由", required=True, help_text="例: 実態調査により居住の事実がないことを確認")
    new_head = forms.ChoiceField(label="新しい世帯主", required=False)

    def __init__(self, *args: Any, others: Sequence[Any] = (), is_head: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if is_head and others:
            _set_choices(self, "new_head", _member_choices(others, "選択してください"))
            self.fields["new_head"].required = True
        else:
            del self.fields["new_head"]


class RestorationForm(forms.Form):
    effective_date = JapaneseDateField(label="回復の日（異動日）")
    relationship = forms.ChoiceField(
        label="続柄",
        required=False,
        choices=[("", "除票の記載のまま"), *Relationship.choices],
        help_text="世帯の状況が変わっている場合に選びます。",
    )
    reason = _reason("回復の理由", required=True, help_text="例: 誤って消除したため")


# --- 支援措置 --------------------------------------------------------------------------------------


class ProtectionSetForm(forms.Form):
    starts_on = JapaneseDateField(label="開始日")
    adversary_name = _name("相手方の氏名")
    adversary_birth_date = JapaneseDateField(label="相手方の生年月日", required=False)
    co_residents = forms.MultipleChoiceField(
        label="併せて措置する同一世帯の方", required=False, widget=forms.CheckboxSelectMultiple
    )
    reason = _reason("備考")

    def __init__(self, *args: Any, others: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if others:
            _set_choices(self, "co_residents", _member_choices(others))
        else:
            del self.fields["co_residents"]


class ProtectionEndForm(forms.Form):
    ended_on = JapaneseDateField(label="終了日")
    end_reason = _reason("終了の理由", required=True, help_text="例: 申出者からの終了の申出")


class LateFilingsForm(forms.Form):
    since = JapaneseDateField(label="異動日（から）")
    until = JapaneseDateField(label="異動日（まで）")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "終わりの日は始めの日以降にしてください。")
        return data


class ProtectionListForm(forms.Form):
    include_ended = forms.BooleanField(label="終了・期間満了したものも表示する", required=False)


# --- 証明書の交付 ----------------------------------------------------------------------------------

CERTIFICATE_KINDS = [
    ("household", "住民票の写し（世帯連記式）"),
    ("individual", "住民票の写し（個人票）"),
    ("record_items", "住民票記載事項証明書"),
    ("removed", "除票の写し"),
]
CERTIFICATE_ITEMS = [
    ("household_head", "世帯主の氏名・続柄"),
    ("domicile", "本籍・筆頭者"),
    ("resident_code", "住民票コード"),
    ("individual_number", "個人番号"),
]
CERTIFICATE_CHANNELS = [
    ("counter", "窓口（本人・同一世帯）"),
    ("proxy", "窓口（代理人）"),
    ("post", "郵送"),
]
REQUESTER_RELATIONS = [
    ("self", "本人"),
    ("household", "同一世帯の方"),
    ("proxy", "代理人（委任状あり）"),
    ("third_party", "第三者（自己の権利行使等）"),
]


class CertificateForm(forms.Form):
    kind = forms.ChoiceField(label="証明書の種類", choices=CERTIFICATE_KINDS)
    members = forms.MultipleChoiceField(
        label="記載する方",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "証明書に記載する方を1人以上選んでください。"},
    )
    include = forms.MultipleChoiceField(
        label="記載する項目（省略が原則の項目）",
        choices=CERTIFICATE_ITEMS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    individual_number_purpose = forms.CharField(
        label="個人番号の利用目的（提出先の事務）",
        max_length=100,
        required=False,
        help_text="個人番号を記載するときだけ入力します（例: 年金の請求）。",
    )
    channel = forms.ChoiceField(label="請求の方法", choices=CERTIFICATE_CHANNELS)
    relation = forms.ChoiceField(label="請求者", choices=REQUESTER_RELATIONS)
    requester_atena = forms.ChoiceField(
        label="請求者（この世帯の方の場合）",
        required=False,
        help_text="請求者がこの世帯の方なら選びます。氏名は選んだ方のものになります。",
    )
    requester_name = _name("請求者の氏名", required=False, help_text="世帯外の方（代理人・第三者）は必ず入力します。")
    requester_birth_date = JapaneseDateField(label="請求者の生年月日", required=False)
    purpose = forms.CharField(
        label="請求事由",
        max_length=200,
        required=False,
        help_text="第三者による請求では必須です（住民基本台帳法第12条の3）。",
    )

    def __init__(self, *args: Any, members: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._members = {m.atena_number: m for m in members}
        self.member_order = list(self._members)  # as the household lists them: the 世帯主 first
        _set_choices(self, "members", _member_choices(members))
        _set_choices(self, "requester_atena", _member_choices(members, "この世帯の方ではない"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        include = set(data.get("include") or [])
        if "individual_number" in include and not data.get("individual_number_purpose", "").strip():
            self.add_error("individual_number_purpose", "個人番号を記載するときは、利用目的を入力してください。")
        if data.get("kind") in ("individual", "removed") and len(data.get("members") or []) > 1:
            self.add_error("members", "個人票・除票の写しは1人ずつ請求します。記載する方を1人だけ選んでください。")
        atena = data.get("requester_atena")
        if atena:
            data["requester_name"] = self._members[atena].full_name
        elif not data.get("requester_name", "").strip() and "requester_name" not in self.errors:
            self.add_error("requester_name", "請求者の氏名を入力するか、この世帯の方から選んでください。")
        if data.get("relation") == "third_party" and not data.get("purpose", "").strip():
            self.add_error("purpose", "第三者による請求では請求事由を入力してください。")
        return data

    def item_labels(self) -> list[str]:
        chosen = set(self.cleaned_data.get("include") or [])
        return [label for value, label in CERTIFICATE_ITEMS if value in chosen]
