"""Physically remove what 0010 and 0011 left of the plaintext: a dropped column or a replaced
row stays in the database file until it is rewritten (SQLite: free pages and the write-ahead
log; PostgreSQL: dropped columns and dead row versions in the table's pages).

Only when those tables hold rows (a fresh install has nothing to remove). Outside a transaction,
which VACUUM needs: SQLite's VACUUM rewrites the whole file (and the log is truncated after);
PostgreSQL's VACUUM FULL rewrites the two tables under an exclusive lock, once, at upgrade.
"""

from django.db import migrations

TABLES = ("integrations_idempotencyrecord", "integrations_importrowerror")


def vacuum(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if not any(
        apps.get_model("integrations", name).objects.exists()
        for name in ("IdempotencyRecord", "ImportRowError")
    ):
        return
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("VACUUM")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        elif connection.vendor == "postgresql":
            for table in TABLES:
                cursor.execute(f"VACUUM FULL {connection.ops.quote_name(table)}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("integrations", "0011_drop_plaintext_idempotency_responses_and_rejected_rows")
    ]

    operations = [migrations.RunPython(vacuum, migrations.RunPython.noop, elidable=True)]
