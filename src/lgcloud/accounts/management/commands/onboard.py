"""``lgcloud onboard``: put municipalities on the platform with their first 団体管理者.

One at a time (``--municipality CODE --admin NAME``) or many from a CSV file
(``--file onboarding.csv`` with columns lg_code, admin_username, admin_display_name).
Every row is checked before anything is written; each municipality is then
onboarded in its own transaction, and a repeat run changes nothing.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.accounts.actions import onboard_municipality
from lgcloud.accounts.identifiers import username_validator
from lgcloud.core.checkdigits import CheckDigitError, validate_lg_code
from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities.queries import municipality_exists

COLUMNS = ("lg_code", "admin_username", "admin_display_name")


class Command(BaseCommand):
    help = "団体を本基盤の利用中にし、最初の団体管理者アカウントを作成します（CSV で一括指定可）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", metavar="CODE")
        parser.add_argument("--admin", metavar="USERNAME", help="団体管理者のユーザー名")
        parser.add_argument("--admin-name", metavar="氏名", help="団体管理者の氏名（省略時はユーザー名）")
        parser.add_argument("--file", type=Path, help=f"一括登録の CSV（列: {', '.join(COLUMNS)}）")
        parser.add_argument("--dry-run", action="store_true", help="検証だけ行い、書き込まない")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = self._rows(options)
        errors = [f"{line}行目: {message}" for line, row in rows for message in self._check(row)]
        if errors:
            raise CommandError("何も登録しませんでした。次の誤りを直してください:\n" + "\n".join(errors[:100]))
        if options["dry_run"]:
            self.stdout.write(f"検証OK: {len(rows)} 団体（--dry-run のため書き込みなし）")
            return
        ctx = TenantContext.system(None, purpose="accounts.onboarding", actor_name="onboard")
        for _, row in rows:
            try:
                done = onboard_municipality(
                    ctx,
                    row["lg_code"],
                    admin_username=row["admin_username"],
                    admin_display_name=row.get("admin_display_name") or row["admin_username"],
                )
            except ValidationError as exc:
                raise CommandError(f"{row['lg_code']}: " + " ".join(exc.messages)) from None
            if done.admin is None:
                self.stdout.write(f"{done.lg_code}\t{row['admin_username']}\t（既存のため変更なし）")
            else:
                self.stdout.write(f"{done.lg_code}\t{done.admin.username}\t{done.generated_password}")

    def _rows(self, options: dict[str, Any]) -> list[tuple[int, dict[str, str]]]:
        if options["file"]:
            if options["municipality"] or options["admin"]:
                raise CommandError("--file と --municipality/--admin は同時に指定できません。")
            with options["file"].open(encoding="utf-8-sig", newline="") as f:
                reader = csv.DictReader(f)
                missing = set(COLUMNS[:2]) - set(reader.fieldnames or [])
                if missing:
                    raise CommandError(f"CSV に列 {', '.join(sorted(missing))} がありません。")
                return [(line, row) for line, row in enumerate(reader, start=2)]
        if not (options["municipality"] and options["admin"]):
            raise CommandError("--municipality と --admin、または --file を指定してください。")
        return [
            (
                1,
                {
                    "lg_code": options["municipality"],
                    "admin_username": options["admin"],
                    "admin_display_name": options["admin_name"] or "",
                },
            )
        ]

    def _check(self, row: dict[str, str]) -> list[str]:
        problems = []
        code = (row.get("lg_code") or "").strip()
        try:
            validate_lg_code(code)
        except CheckDigitError as exc:
            problems.append(exc.message)
        else:
            if not municipality_exists(code):
                problems.append(f"団体コード {code} の団体は登録されていません。")
        try:
            username_validator(row.get("admin_username") or "")
        except ValidationError as exc:
            problems.extend(exc.messages)
        return problems
