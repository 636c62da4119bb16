"""Indexes that let the prefix searches (氏名・カナ・住所 LIKE 'x%') use an index on both engines.

Resident search matches the folded keys by prefix (``startswith``, i.e. ``LIKE 'x%'``).
Neither engine can answer that from the plain (municipality, key) btree indexes:

- PostgreSQL only turns LIKE into an index range under the "C" collation; a
  cluster made with C.UTF-8 or ja_JP.UTF-8 needs the ``varchar_pattern_ops``
  operator class.
- SQLite's LIKE is case-insensitive (for ASCII), so its LIKE optimisation needs an
  index whose column uses the NOCASE collation; the keys are Japanese, so NOCASE
  orders them exactly as BINARY does and nothing else changes.

Without these a search walks the municipality's whole index (bench/README.md: at
1 M residents, seconds instead of milliseconds). The model's own indexes stay:
they serve equality and ORDER BY kana_key. This migration leaves the model state
alone (engine-specific SQL, like core.postgres.EnableTenantRLS).
"""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

INDEXES = {
    "person_name_key_prefix_idx": "name_key",
    "person_kana_key_prefix_idx": "kana_key",
    "person_address_key_prefix_idx": "address_key",
}


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        column = "{} varchar_pattern_ops"
    elif vendor == "sqlite":
        column = "{} COLLATE NOCASE"
    else:
        return
    for name, key in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON registry_person (municipality_id, {column.format(key)})"
        )


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor not in {"postgresql", "sqlite"}:
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_kioskcredential")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
