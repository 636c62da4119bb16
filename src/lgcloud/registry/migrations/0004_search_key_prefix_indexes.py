"""Make the prefix searches on the folded keys (氏名・カナ・住所) able to use an index.

Resident search matches ``name_key``, ``kana_key`` and ``address_key`` by prefix.
At 1 M residents an unindexed search scans the municipality: see bench/README.md,
about 2 s on PostgreSQL.

PostgreSQL: the keys get the "C" collation, i.e. code point order, the order SQLite's
BINARY already uses. The row-level security policy is why. Under RLS the planner
may turn a condition into an index condition only if its function is LEAKPROOF,
and LIKE (``textlike``) is not. So ``LIKE 'x%'`` never uses an index here, whatever
the operator class. Range comparisons (``text_ge``, ``text_lt``) are leakproof. A
prefix is a range exactly when the order is code point order:
``key >= 'x' AND key < next('x')``. With the C collation the model's own
(municipality, key) indexes answer that range, and they also give ORDER BY
kana_key without a sort. This needs search_persons to state the prefix as that
range (bench/README.md has the change). With LIKE alone the collation changes
nothing.

SQLite has no RLS, but its LIKE is case-insensitive for ASCII, so LIKE can only use
an index whose column has the NOCASE collation. The keys are Japanese, so NOCASE
orders them exactly as BINARY does. Three such indexes make today's LIKE searches
fast on SQLite. They become redundant once the searches are ranges; drop them then.

The model state is left alone (engine-specific SQL, like core.postgres.EnableTenantRLS).
A later AlterField on these columns must keep COLLATE "C" on PostgreSQL:
Django's ALTER COLUMN ... TYPE would reset it to the default.
"""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

KEYS = ("name_key", "kana_key", "address_key")
SQLITE_INDEXES = {f"person_{key}_prefix_idx": key for key in KEYS}


def _columns(apps: StateApps) -> list[tuple[str, int]]:
    person = apps.get_model("registry", "Person")
    return [(key, person._meta.get_field(key).max_length) for key in KEYS]


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for name in SQLITE_INDEXES:  # an earlier draft of this migration made varchar_pattern_ops indexes
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
        for key, length in _columns(apps):
            # Same type, new collation: the table is not rewritten, the indexes on the column are rebuilt.
            schema_editor.execute(f'ALTER TABLE registry_person ALTER COLUMN {key} TYPE varchar({length}) COLLATE "C"')
    elif vendor == "sqlite":
        for name, key in SQLITE_INDEXES.items():
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON registry_person (municipality_id, {key} COLLATE NOCASE)"
            )


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for key, length in _columns(apps):
            schema_editor.execute(
                f'ALTER TABLE registry_person ALTER COLUMN {key} TYPE varchar({length}) COLLATE "default"'
            )
    elif vendor == "sqlite":
        for name in SQLITE_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_kioskcredential")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
