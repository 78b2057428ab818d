"""The plain columns go and the encrypted copies of 0010 take their names.

A migration of its own: on PostgreSQL a table cannot be altered in the transaction that has just
updated its rows (pending foreign-key trigger events).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("integrations", "0010_seal_idempotency_responses_and_rejected_rows")]

    operations = [
        migrations.RemoveField(model_name="idempotencyrecord", name="response_data"),
        migrations.RemoveField(model_name="importrowerror", name="values"),
        migrations.RenameField(
            model_name="idempotencyrecord",
            old_name="sealed_response_data",
            new_name="response_data",
        ),
        migrations.RenameField(
            model_name="importrowerror", old_name="sealed_values", new_name="values"
        ),
    ]
