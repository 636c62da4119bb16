"""A procedure definition as a value: what a definition file (shipped by an app) may say.

Pure: no ORM, no clock, no I/O. :func:`parse_definition` turns the loaded mapping into a
:class:`Definition` or raises :class:`DefinitionError` naming every problem, so a broken file
is refused at publication, never half-published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

FIELD_TYPES = frozenset({"text", "textarea", "date", "integer", "choice", "email", "boolean", "digits"})
ATTACHMENT_TYPES = frozenset({"pdf", "jpeg", "png"})
# What approval does when no app acts: the submission is recorded as accepted (受理) only.
RECORD_ONLY = "record_only"
# Checks a field may ask for beyond its type, done by the platform itself (rules/fields.py).
FIELD_CHECKS = frozenset({"lg_code"})
# The top-level keys the platform reads; others belong to the approval's effect (its
# ``definition_keys``), checked at publication against the installed apps (procedures.hooks).
CORE_KEYS = frozenset(
    {
        "code", "title", "title_ruby", "summary", "easy_help", "legal_basis", "reviewer_role",
        "deadline", "prefill", "fields", "attachments", "on_approve",
    }
)  # fmt: skip
REVIEWER_ROLES = frozenset({"registry_clerk", "welfare_clerk", "tax_clerk", "counter"})
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


class DefinitionError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    type: str
    required: bool = False
    help: str = ""
    max_length: int | None = None
    min: int | None = None
    max: int | None = None
    length: int | None = None
    pattern: str = ""
    pattern_message: str = ""
    not_after_today: bool = False
    choices: tuple[Choice, ...] = ()
    compare_with: str = ""  # a prefill item whose stored value the review page sets beside this field
    check: str = ""
    choices_from: str = ""


@dataclass(frozen=True)
class PrefillSpec:
    field: str
    item: str
    label: str


@dataclass(frozen=True)
class AttachmentSpec:
    name: str
    label: str
    required: bool
    types: tuple[str, ...]
    max_bytes: int


@dataclass(frozen=True)
class Deadline:
    field: str
    days: int
    label: str


@dataclass(frozen=True)
class Definition:
    code: str
    title: str
    title_ruby: str
    summary: str
    easy_help: str
    legal_basis: str
    reviewer_role: str
    fields: tuple[FieldSpec, ...]
    prefill: tuple[PrefillSpec, ...]
    attachments: tuple[AttachmentSpec, ...]
    approval_action: str
    approval_note: str = ""
    deadline: Deadline | None = None
    approval_options: dict[str, Any] = field(default_factory=dict)  # ``on_approve`` besides action and note
    extra: dict[str, Any] = field(default_factory=dict)  # top-level keys the effect owns (``account``, ``fee``)

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


def _str(data: dict[str, Any], key: str, problems: list[str], where: str, *, required: bool = True) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.append(f"{where}: {key} は文字列で書いてください")
        return ""
    if required and not value.strip():
        problems.append(f"{where}: {key} がありません")
    return value.strip()


def _int(data: dict[str, Any], key: str, problems: list[str], where: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"{where}: {key} は整数で書いてください")
        return None
    return value


def _field(raw: Any, problems: list[str]) -> FieldSpec | None:
    if not isinstance(raw, dict):
        problems.append("fields: 各項目は name, label, type を持つ対応表で書いてください")
        return None
    name = _str(raw, "name", problems, "fields")
    where = f"fields.{name or '?'}"
    kind = _str(raw, "type", problems, where)
    if kind and kind not in FIELD_TYPES:
        problems.append(f"{where}: type {kind!r} は使えません（{', '.join(sorted(FIELD_TYPES))}）")
    choices: list[Choice] = []
    for c in raw.get("choices") or []:
        if not isinstance(c, dict) or "value" not in c or "label" not in c:
            problems.append(f"{where}: choices の各項目は value と label を持ちます")
            continue
        choices.append(Choice(str(c["value"]), str(c["label"])))
    choices_from = _str(raw, "choices_from", problems, where, required=False)
    if choices_from and kind != "choice":
        problems.append(f"{where}: choices_from は choice の項目に書きます")
    if kind == "choice" and not choices and not choices_from:
        problems.append(f"{where}: choice には choices が必要です")
    check = _str(raw, "check", problems, where, required=False)
    if check and check not in FIELD_CHECKS:
        problems.append(f"{where}: check {check!r} は使えません（{', '.join(sorted(FIELD_CHECKS))}）")
    pattern = _str(raw, "pattern", problems, where, required=False)
    if pattern:
        try:
            re.compile(pattern)
        except re.error:
            problems.append(f"{where}: pattern が正規表現として正しくありません")
    if kind == "digits" and _int(raw, "length", problems, where) is None:
        problems.append(f"{where}: digits には length が必要です")
    # ``registry_item`` is how versions published before the app contract named it.
    item = _str(raw, "compare_with", problems, where, required=False) or _str(
        raw, "registry_item", problems, where, required=False
    )
    known = {
        "name", "label", "type", "required", "help", "max_length", "min", "max", "length", "pattern",
        "pattern_message", "not_after_today", "choices", "compare_with", "registry_item", "check", "choices_from",
    }  # fmt: skip
    unknown = sorted(set(raw) - known)
    if unknown:
        problems.append(f"{where}: 不明な指定 {', '.join(unknown)}")
    if not _CODE.match(name or ""):
        problems.append(f"{where}: name は半角英小文字・数字・_ で書いてください")
    return FieldSpec(
        name=name,
        label=_str(raw, "label", problems, where),
        type=kind,
        required=bool(raw.get("required", False)),
        help=_str(raw, "help", problems, where, required=False),
        max_length=_int(raw, "max_length", problems, where),
        min=_int(raw, "min", problems, where),
        max=_int(raw, "max", problems, where),
        length=_int(raw, "length", problems, where),
        pattern=pattern,
        pattern_message=_str(raw, "pattern_message", problems, where, required=False),
        not_after_today=bool(raw.get("not_after_today", False)),
        choices=tuple(choices),
        compare_with=item,
        check=check,
        choices_from=choices_from,
    )


def parse_definition(data: Any) -> Definition:
    """The definition in ``data`` (a loaded YAML mapping), or DefinitionError listing every problem."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise DefinitionError(["定義は対応表（mapping）で書いてください"])
    code = _str(data, "code", problems, "定義")
    if code and not _CODE.match(code):
        problems.append("code は半角英小文字・数字・_ で書いてください")
    fields = [f for f in (_field(r, problems) for r in data.get("fields") or []) if f is not None]
    names = [f.name for f in fields]
    if len(names) != len(set(names)):
        problems.append("fields: name が重複しています")
    prefill: list[PrefillSpec] = []
    for raw in data.get("prefill") or []:
        if not isinstance(raw, dict):
            problems.append("prefill: 各項目は field, item, label を持ちます")
            continue
        spec = PrefillSpec(
            _str(raw, "field", problems, "prefill"),
            _str(raw, "item", problems, "prefill"),
            _str(raw, "label", problems, "prefill"),
        )
        if spec.item and not _CODE.match(spec.item):
            problems.append(f"prefill.{spec.field}: item は半角英小文字・数字・_ で書いてください")
        if spec.field in names:
            problems.append(f"prefill.{spec.field}: 入力項目と同じ名前です（住民が入力し直すことになります）")
        prefill.append(spec)
    attachments: list[AttachmentSpec] = []
    for raw in data.get("attachments") or []:
        if not isinstance(raw, dict):
            problems.append("attachments: 各項目は name, label, types, max_bytes を持ちます")
            continue
        name = _str(raw, "name", problems, "attachments")
        types = tuple(str(t) for t in raw.get("types") or [])
        if not types or not set(types) <= ATTACHMENT_TYPES:
            problems.append(f"attachments.{name}: types は {', '.join(sorted(ATTACHMENT_TYPES))} から選んでください")
        max_bytes = _int(raw, "max_bytes", problems, f"attachments.{name}") or 0
        if not 0 < max_bytes <= MAX_ATTACHMENT_BYTES:
            problems.append(f"attachments.{name}: max_bytes は 1〜{MAX_ATTACHMENT_BYTES} で書いてください")
        attachments.append(
            AttachmentSpec(
                name, _str(raw, "label", problems, "attachments"), bool(raw.get("required")), types, max_bytes
            )
        )
    reviewer = _str(data, "reviewer_role", problems, "定義")
    if reviewer and reviewer not in REVIEWER_ROLES:
        problems.append(f"reviewer_role {reviewer!r} は審査できるロールではありません")
    on_approve = data.get("on_approve") or {}
    if not isinstance(on_approve, dict):
        problems.append("on_approve は対応表で書いてください（action: …）")
        on_approve = {}
    action = str(on_approve.get("action", ""))
    if not action:
        problems.append(f"on_approve.action がありません（承認で何もしない手続は {RECORD_ONLY}）")
    deadline = None
    raw_deadline = data.get("deadline")
    if isinstance(raw_deadline, dict):
        days = _int(raw_deadline, "days", problems, "deadline")
        dl_field = _str(raw_deadline, "field", problems, "deadline")
        if dl_field and (dl_field not in names or next(f for f in fields if f.name == dl_field).type != "date"):
            problems.append("deadline.field は日付の入力項目を指してください")
        deadline = Deadline(dl_field, days or 0, _str(raw_deadline, "label", problems, "deadline"))
    options = {k: v for k, v in on_approve.items() if k not in ("action", "note")}
    extra = {k: v for k, v in data.items() if k not in CORE_KEYS}
    title = _str(data, "title", problems, "定義")
    if problems:
        raise DefinitionError(problems)
    return Definition(
        code=code,
        title=title,
        title_ruby=_str(data, "title_ruby", problems, "定義", required=False),
        summary=_str(data, "summary", problems, "定義", required=False),
        easy_help=_str(data, "easy_help", problems, "定義", required=False),
        legal_basis=_str(data, "legal_basis", problems, "定義", required=False),
        reviewer_role=reviewer,
        fields=tuple(fields),
        prefill=tuple(prefill),
        attachments=tuple(attachments),
        approval_action=action,
        approval_note=str(on_approve.get("note", "")),
        deadline=deadline,
        approval_options=options,
        extra=extra,
    )
