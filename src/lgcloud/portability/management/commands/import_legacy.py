"""``lgcloud import_legacy``: a legacy system's Shift_JIS export → the standard layout → the normal import.

docs/legacy-import.md describes the column map, the 外字 table and the procedure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities.queries import get_municipality
from lgcloud.portability.legacy import DEFAULT_CAP, LegacyResult, MapError, import_legacy, load_gaiji, load_map


class Command(BaseCommand):
    help = (
        "旧システムの Shift_JIS 出力（CSV・固定長）を列定義と外字表で標準レイアウトに変換し、"
        "検査して空の団体へ取り込みます（--out なら変換結果を書き出すだけ、--dry-run なら何も書きません）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", required=True, help="取込み先の団体コード（6桁）")
        parser.add_argument("--map", required=True, type=Path, help="列定義（YAML）")
        parser.add_argument("--mapping", required=True, type=Path, help="外字表 GAIJI.csv（code,target,note）")
        parser.add_argument("--review-list", type=Path, default=None, help="要確認一覧（CSV）の出力先")
        parser.add_argument("--out", type=Path, default=None, help="取り込まずに標準レイアウトをこのフォルダへ書き出す")
        parser.add_argument("--dry-run", action="store_true", help="変換と検査だけ行い、何も取り込まない")
        parser.add_argument(
            "--max-errors", type=int, default=DEFAULT_CAP, help=f"表示する誤りの上限（既定 {DEFAULT_CAP}）"
        )
        parser.add_argument("files", nargs="+", type=Path, help="旧システムの出力ファイル")

    def handle(self, *args: Any, **options: Any) -> None:
        code: str = options["municipality"]
        municipality = get_municipality(code)
        if municipality is None:
            raise CommandError(f"団体 {code} がありません。lgcloud load_municipalities を実行してください。")
        try:
            legacy_map = load_map(options["map"])
            gaiji = load_gaiji(options["mapping"])
        except MapError as exc:
            raise CommandError(str(exc)) from None
        ctx = TenantContext.system(code, purpose="import_legacy", actor_name="import_legacy")
        try:
            result = import_legacy(
                ctx,
                options["files"],
                legacy_map,
                gaiji,
                municipality_name=municipality.full_name,
                review_list=options["review_list"],
                out=options["out"],
                dry_run=options["dry_run"],
                cap=options["max_errors"],
                progress=lambda name, n: self.stdout.write(f"  {name}: {n:,} 行を読みました"),
            )
        except MapError as exc:
            raise CommandError(str(exc)) from None
        self._report(result, options)

    def _report(self, result: LegacyResult, options: dict[str, Any]) -> None:
        conv = result.conversion
        if not conv.ok:
            for issue in conv.issues:
                self.stderr.write(str(issue))
            if conv.issue_total > len(conv.issues):
                self.stderr.write(f"…ほか {conv.issue_total - len(conv.issues):,} 件")
            raise CommandError(f"変換できない箇所が {conv.issue_total:,} 件あるため、何も取り込みませんでした。")
        kept = sum(1 for e in conv.review if not e.raw_hex)
        summary = (
            f"世帯 {len(conv.households):,}、住民 {len(conv.persons):,}"
            f"（要確認の外字 {kept:,} 件、保留 {conv.withheld_households:,} 世帯 {conv.withheld_persons:,} 人）"
        )
        report = result.report
        if report is not None and not report.ok:
            for finding in report.findings:
                source = conv.source_of(finding.file, finding.line)
                self.stderr.write(f"{finding}" + (f"（移行元 {source[0]}:{source[1]}）" if source else ""))
            raise CommandError(
                f"変換結果の標準レイアウトの検査で誤りが {report.total:,} 件あるため、何も取り込みませんでした。"
            )
        if result.not_empty:
            raise CommandError("この団体には住民記録がすでにあります。旧システムからの取込みは空の団体にだけ行えます。")
        if options["review_list"] is not None and conv.review:
            self.stdout.write(f"要確認一覧: {options['review_list']}（{len(conv.review):,} 行）")
        if result.bundle is not None:
            self.stdout.write(
                self.style.SUCCESS(f"標準レイアウトを書き出しました（取り込んでいません）: {result.bundle}。{summary}")
            )
        elif result.stats is None:
            self.stdout.write(f"（書き込みません）取り込める内容です: {summary}")
        else:
            s = result.stats
            self.stdout.write(
                self.style.SUCCESS(
                    f"取り込みました: 世帯 {s.households:,}、住民 {s.persons:,}、異動 {s.changes:,}、"
                    f"異動履歴 {s.versions:,}、個人番号 {s.individual_numbers:,}。{summary}"
                )
            )
