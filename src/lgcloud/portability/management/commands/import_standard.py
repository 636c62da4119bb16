"""``lgcloud import_standard``: a verified standard-layout bundle into an empty municipality, all at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities.queries import get_municipality
from lgcloud.portability.actions import import_bundle
from lgcloud.portability.bundle import BundleError, read_manifest
from lgcloud.portability.management.commands.verify_standard import print_report
from lgcloud.portability.validate import DEFAULT_CAP, Report


class Command(BaseCommand):
    help = (
        "標準レイアウトの出力を検査し、誤りがなければ空の団体へ一度に取り込みます"
        "（誤りが1件でもあれば何も取り込みません）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", required=True, help="取込み先の団体コード（6桁）")
        parser.add_argument("directory", type=Path, help="manifest.json のあるフォルダ")
        parser.add_argument(
            "--as-other-municipality",
            action="store_true",
            help="別の団体コードの出力を取り込む（検証・リハーサル用）",
        )
        parser.add_argument(
            "--max-errors", type=int, default=DEFAULT_CAP, help=f"表示する誤りの上限（既定 {DEFAULT_CAP}）"
        )
        parser.add_argument("--no-progress", action="store_true", help="進捗バーを表示しない")

    def handle(self, *args: Any, **options: Any) -> None:
        code: str = options["municipality"]
        if get_municipality(code) is None:
            raise CommandError(f"団体 {code} がありません。")
        ctx = TenantContext.system(code, purpose="import_standard", actor_name="import_standard (CLI)")
        written = ("household", "person", "change", "change_record", "protection")
        try:
            files = read_manifest(options["directory"]).get("files") or []
            total = sum(int(f.get("rows") or 0) for f in files if isinstance(f, dict) and f.get("entity") in written)
        except (BundleError, TypeError, ValueError):
            total = 0  # the verification reports what is wrong with the manifest
        self.stdout.write(f"{code} へ取り込みます（検査と書込みを並行して行い、検査に通ったときだけ確定します）…")
        bar = tqdm(total=total or None, unit="行", disable=options["no_progress"], desc="取込み", file=self.stderr)

        def verified(report: Report) -> None:
            if report.ok:
                self.stdout.write("検査: 誤りはありません。")

        try:
            result = import_bundle(
                ctx,
                options["directory"],
                allow_other_municipality=options["as_other_municipality"],
                cap=options["max_errors"],
                progress=lambda _entity, n: bar.update(n),
                on_verified=verified,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        finally:
            bar.close()
        if result.stats is None:
            print_report(self, result.report)
            raise CommandError(f"誤りが {result.report.total:,} 件あるため、何も取り込みませんでした。")
        s = result.stats
        self.stdout.write(
            self.style.SUCCESS(
                f"取り込みました: 世帯 {s.households:,}、住民 {s.persons:,}、異動 {s.changes:,}、"
                f"異動履歴 {s.versions:,}、支援措置 {s.protections:,}、個人番号 {s.individual_numbers:,}"
            )
        )
