"""``lgcloud publish_layout``: write the standard layout's JSON Schema, code tables and doc from layout.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.portability.publish import REPO_DOCS, published_files, render_doc, write_published


class Command(BaseCommand):
    help = "標準レイアウトの JSON Schema・コード表（CSV）・docs/standard-layout.md を layout.py から作り直します。"

    def add_arguments(self, parser: CommandParser) -> None:
        default = REPO_DOCS
        parser.add_argument("--docs", type=Path, default=default, help=f"docs フォルダ（既定 {default}）")
        parser.add_argument("--check", action="store_true", help="書かずに、公開中のファイルが最新かだけを確かめる")

    def handle(self, *args: Any, **options: Any) -> None:
        root: Path = options["docs"]
        if options["check"]:
            stale = [
                rel
                for rel, text in published_files().items()
                if not (root / rel).is_file() or (root / rel).read_bytes() != text.encode()
            ]
            doc = root / "standard-layout.md"
            if not stale and (not doc.is_file() or doc.read_bytes() != render_doc(root).encode()):
                stale.append("standard-layout.md")
            if stale:
                raise CommandError("公開中の標準レイアウトが古くなっています: " + ", ".join(stale))
            self.stdout.write("公開中の標準レイアウトは最新です。")
            return
        for path in write_published(root):
            self.stdout.write(f"  {path}")
        self.stdout.write(self.style.SUCCESS("標準レイアウトを公開しました。"))
