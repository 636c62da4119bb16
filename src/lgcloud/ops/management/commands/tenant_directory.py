"""The tenant directory: list it, place a municipality on a cluster, freeze or unfreeze its writes.

lgcloud tenant_directory                      # every entry and the configured clusters
lgcloud tenant_directory --place 131041 c2    # a new municipality's data goes to cluster c2
lgcloud tenant_directory --freeze 131041      # refuse its writes (503 tenant_moving)
lgcloud tenant_directory --unfreeze 131041
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.core import placement
from lgcloud.ops.placement import MoveError, place


class Command(BaseCommand):
    help = "団体の配置（どのクラスタにデータがあるか）を表示・変更します。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--place", nargs=2, metavar=("LG_CODE", "CLUSTER"))
        parser.add_argument("--freeze", metavar="LG_CODE")
        parser.add_argument("--unfreeze", metavar="LG_CODE")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["place"]:
                place(*options["place"])
            if options["freeze"]:
                placement.set_frozen(options["freeze"], True)
            if options["unfreeze"]:
                placement.set_frozen(options["unfreeze"], False)
        except (ValueError, MoveError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"clusters: {', '.join(placement.clusters())}")
        for entry in placement.directory():
            self.stdout.write(f"{entry.lg_code} {entry.cluster}{' frozen' if entry.frozen else ''}")
