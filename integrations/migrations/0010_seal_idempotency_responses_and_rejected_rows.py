"""Idempotency responses and rejected import rows held decrypted PII in plain JSON: encrypt them.

Each column is replaced by an encrypted one (``EncryptedJSONField``): the new column is added,
every existing row copied into it in batches (encrypted with the first key of
FIELD_ENCRYPTION_KEYS), the plain column dropped and the new one given its name. Unapplying
copies the values back in the clear.
"""

from django.db import migrations

import customers.fields

BATCH_SIZE = 1000
COPIES = (("IdempotencyRecord", "response_data"), ("ImportRowError", "values"))


def _copy(apps, *, reverse: bool) -> None:
    for model_name, name in COPIES:
        model = apps.get_model("integrations", model_name)
        source, target = (f"sealed_{name}", name) if reverse else (name, f"sealed_{name}")
        last_pk = 0
        while True:
            batch = list(
                model.objects.filter(pk__gt=last_pk).order_by("pk").only("pk", source)[:BATCH_SIZE]
            )
            if not batch:
                break
            for row in batch:
                setattr(row, target, getattr(row, source))
            model.objects.bulk_update(batch, [target])
            last_pk = batch[-1].pk


def seal(apps, schema_editor) -> None:
    _copy(apps, reverse=False)


def unseal(apps, schema_editor) -> None:
    _copy(apps, reverse=True)


class Migration(migrations.Migration):
    dependencies = [("integrations", "0009_connection_name_error")]

    operations = [
        migrations.AddField(
            model_name="idempotencyrecord",
            name="sealed_response_data",
            field=customers.fields.EncryptedJSONField(null=True),
        ),
        migrations.AddField(
            model_name="importrowerror",
            name="sealed_values",
            field=customers.fields.EncryptedJSONField(blank=True, default=dict),
        ),
        migrations.RunPython(seal, unseal, elidable=False),
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
