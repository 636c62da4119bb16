"""``lgcloud demo_usage``: a month of metered use for the demo municipalities, through the real request path.

For each of the last ``--days`` days (ending yesterday) the demo staff of 千代田区, 新宿区 and
八王子市 make requests through Django's full request handling (every middleware, the metering
one included) — searches and 住民票 in the pages, API reads, dashboards, 住民票の写し issued
through the API — booked on that day (``ops.metering.booked_on``); then the day is closed as
``lgcloud usage_close`` would. A real batch run (the demo benefit programme's eligibility job)
runs once per municipality, today. Last, each municipality's open-data release for the end of the
previous month is prepared and approved in the name of its demo 団体管理者 (``admin``): the demo
stands in for the person who approves, and says so.

Idempotent enough for ``make run``: a day already metered is skipped, and so are releases and
programmes that exist.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import Client
from django.utils import timezone

from lgcloud.accounts.context import context_for
from lgcloud.accounts.queries import find_staff_by_username
from lgcloud.core.tenancy import TenantContext
from lgcloud.ops import actions, metering, queries
from lgcloud.ops.daily import close_day

# Relative traffic: 新宿区 busier than 八王子市, 八王子市 than 千代田区 (a small ward).
DEMO_TRAFFIC = {"131016": 1.0, "131041": 2.4, "132012": 1.6}
SEARCHES = ("山田", "佐藤", "鈴木", "高橋", "田中", "ヤマ", "サトウ", "伊藤")


class Command(BaseCommand):
    help = "デモ団体の1か月分の利用（実際のリクエスト処理とバッチを通す）を計量し、オープンデータを公表します。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=30, help="遡る日数（既定: 30）")
        parser.add_argument("--requests-per-day", type=int, default=8, help="千代田区の1日のリクエスト数（既定: 8）")
        parser.add_argument("--force", action="store_true", help="本番設定でも実行する")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEVELOPMENT and not options["force"]:
            raise CommandError("デモの利用は開発環境（LGCLOUD_ENV=development）でのみ作成します。")
        if options["days"] < 1 or options["requests_per_day"] < 1:
            raise CommandError("--days と --requests-per-day は 1 以上にしてください。")
        clients = {code: self._clients(code) for code in DEMO_TRAFFIC}
        rng = random.Random(20261201)  # noqa: S311  (a repeatable demo, not a secret)
        today = timezone.localdate()
        codes = list(DEMO_TRAFFIC)
        for back in range(options["days"], 0, -1):
            day = today - timedelta(days=back)
            if self._metered(day):
                continue
            with metering.booked_on(day):
                for code, weight in DEMO_TRAFFIC.items():
                    self._day_of_work(code, clients[code], round(options["requests_per_day"] * weight), rng, day)
            close_day(day, codes)
            self.stdout.write(f"{day}: 計量しました")
        self._jobs(codes)
        close_day(today, codes)
        self._opendata(codes, today)

    # -- staff -----------------------------------------------------------------------------------
    def _staff(self, code: str, username: str) -> Any:
        found = [s for s in find_staff_by_username(code, username) if s.municipality_id == code]
        if not found:
            raise CommandError(f"{code} のデモ職員 {username} がいません。先に lgcloud demo を実行してください。")
        return found[0]

    def _clients(self, code: str) -> dict[str, Client]:
        out = {}
        for username in ("registry", "counter"):
            client = Client(SERVER_NAME="127.0.0.1")
            client.force_login(self._staff(code, username), backend="lgcloud.accounts.backends.StaffBackend")
            out[username] = client
        return out

    def _metered(self, day: date) -> bool:
        ctx = TenantContext.system(next(iter(DEMO_TRAFFIC)), purpose="demo")
        return any(m.startswith("requests.") for _d, _g, m, _q in queries.usage_rows(ctx, day, day))

    # -- a day -----------------------------------------------------------------------------------
    def _day_of_work(self, code: str, clients: dict[str, Client], n: int, rng: random.Random, day: date) -> None:
        registry, counter = clients["registry"], clients["counter"]
        api = f"/api/v1/municipalities/{code}"
        found = registry.get(f"{api}/persons", {"name": rng.choice(SEARCHES)})
        atena = [p["atena_number"] for p in found.json().get("items", [])] if found.status_code == 200 else []
        for i in range(n):
            what = i % 6
            if what == 0:
                registry.get("/registry/", {"name": rng.choice(SEARCHES)})
            elif what == 1 and atena:
                registry.get(f"/registry/persons/{rng.choice(atena)}/")
            elif what == 2 and atena:
                registry.get(f"{api}/persons/{rng.choice(atena)}")
            elif what == 3:
                counter.get("/dashboard/")
            elif what == 4:
                counter.get("/procedures/counter/")
            else:
                since = (day - timedelta(days=30)).isoformat()
                registry.get(f"{api}/changes/late-filings", {"since": since, "until": day.isoformat()})
        if atena and day.weekday() < 5:  # the counter issues 住民票の写し on weekdays
            person = rng.choice(atena)
            registry.post(
                f"{api}/certificates",
                {
                    "kind": "individual",
                    "atena_numbers": [person],
                    "requester": {"name": "デモ 請求者", "atena_number": person, "relation": "self"},
                    "purpose": "デモ",
                },
                content_type="application/json",
            )

    # -- jobs and open data --------------------------------------------------------------------------
    def _jobs(self, codes: list[str]) -> None:
        """The demo benefit programme's eligibility run: a real batch job per municipality."""
        if "benefit_eligibility" not in get_commands():
            self.stdout.write("給付のアプリがないため、バッチ処理は省略しました")
            return
        spec = find_spec("lgcloud.benefits")
        folder = next(iter(spec.submodule_search_locations or [])) if spec else ""
        programme = Path(folder) / "programmes" / "push-2026.yaml"
        for code in codes:
            call_command("benefit_programme", "--municipality", code, str(programme), stdout=self.stdout)
            call_command(
                "benefit_eligibility",
                "--municipality",
                code,
                "--programme",
                "push-2026",
                "--no-progress",
                stdout=self.stdout,
            )

    def _opendata(self, codes: list[str], today: date) -> None:
        reference = today.replace(day=1) - timedelta(days=1)
        since = reference.replace(day=1) - timedelta(days=1)
        since = since.replace(day=1)
        for code in codes:
            admin = context_for(self._staff(code, "admin"), purpose="demo.opendata")
            existing = queries.releases(admin)
            if any(r.reference_date == reference and r.status == "published" for r in existing):
                continue
            release = actions.prepare_release(admin, reference_date=reference, since=since)
            actions.approve_release(admin, release.number)
            hidden = sum(len(v) for v in release.suppressed.values())
            self.stdout.write(
                f"{code}: オープンデータ 第{release.number}号（基準日 {reference}、秘匿 {hidden} セル）を"
                f"デモの団体管理者 {admin.actor_name} として承認・公表しました"
            )
