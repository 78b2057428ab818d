"""PostgreSQL only: indexes on names under the Chinese ICU collation (pinyin order), so the web
UI's name-ordered contact and company lists stay index scans at millions of rows. Skipped on
SQLite and on a PostgreSQL built without ICU (lists then sort by code point)."""

from django.db import migrations

COLLATION = "zh-Hans-x-icu"
INDEXES = {
    "contact_name_zh_idx": (
        "customers_contact",
        f'(last_name COLLATE "{COLLATION}"), (first_name COLLATE "{COLLATION}"), id',
    ),
    "company_name_zh_idx": ("customers_company", f'(name COLLATE "{COLLATION}"), id'),
}


def _has_collation(schema_editor) -> bool:
    if schema_editor.connection.vendor != "postgresql":
        return False
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_collation WHERE collname = %s", [COLLATION])
        return cursor.fetchone() is not None


def create_indexes(apps, schema_editor):
    if not _has_collation(schema_editor):
        return
    for name, (table, columns) in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_change_events")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
