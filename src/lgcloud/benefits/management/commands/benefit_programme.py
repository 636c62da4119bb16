"""``lgcloud benefit_programme``: load a flat-benefit programme file (YAML) into a municipality."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.benefits import actions
from lgcloud.core.tenancy import TenantContext


class Command(BaseCommand):
    help = "給付プログラム（YAML）を団体に登録します。同じファイルの再登録は何もしません。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", required=True, help="団体コード（6桁）")
        parser.add_argument(
            "file", type=Path, help="プログラムファイル（例: src/lgcloud/benefits/programmes/push-2026.yaml）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ctx = TenantContext.system(options["municipality"], purpose="benefits.programme")
        raw = options["file"].read_bytes()
        try:
            programme = actions.load_programme(ctx, yaml.safe_load(raw), source=raw)
        except (actions.BenefitRefused, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{programme.code}: {programme.name}（基準日 {programme.reference_date}）")
