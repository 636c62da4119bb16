"""The ``lgcloud`` console script: Django management commands with lgcloud's settings."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lgcloud.settings")
    # Schema changes run as the owner role; the app role may not ALTER tables.
    if len(argv) > 1 and argv[1] == "migrate" and os.environ.get("LGCLOUD_MIGRATE_DATABASE_URL"):
        os.environ["LGCLOUD_DATABASE_URL"] = os.environ["LGCLOUD_MIGRATE_DATABASE_URL"]

    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
    except ImproperlyConfigured as exc:
        # Configuration errors (e.g. a storage region outside Japan) are the
        # operator's to fix: say what is wrong without a traceback.
        print(f"lgcloud: 設定エラー: {exc}", file=sys.stderr)
        raise SystemExit(2) from None

    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
