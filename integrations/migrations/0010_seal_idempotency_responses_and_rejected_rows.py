"""Idempotency responses and rejected import rows held decrypted PII in plain JSON: encrypt them
(0011 then drops the plain columns).

Each column is replaced by an encrypted one (``EncryptedJSONField``): the new column is added,
every existing row copied into it in batches (encrypted with the first key of
FIELD_ENCRYPTION_KEYS), the plain column dropped and the new one given its name. A rejected
row's message that quotes a PII value loses the quote. Unapplying copies the values back in
the clear (the quotes stay gone).
"""

from django.db import migrations

import customers.crypto.fields

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
    _scrub_messages(apps)


def _scrub_messages(apps) -> None:
    """Messages about a PII field may quote the bad value: replaced by *** as new rows are
    (``imports.reports.message_at_rest``, copied here as migrations must not import app code)."""
    entity = {"contacts": "contact", "companies": "company", "deals": "deal"}
    custom_pii = {
        (field_entity, f"custom_fields.{name}")
        for field_entity, name in apps.get_model("customers", "CustomField")
        .objects.filter(pii=True)
        .values_list("entity", "name")
    }
    row_error = apps.get_model("integrations", "ImportRowError")
    last_pk = 0
    while True:
        batch = list(
            row_error.objects.filter(pk__gt=last_pk)
            .order_by("pk")
            .select_related("job")
            .only("pk", "field", "message", "sealed_values", "job__resource")[:BATCH_SIZE]
        )
        if not batch:
            break
        changed = []
        for row in batch:
            pii_field = row.field in ("email", "phone", "address") or (
                (entity.get(row.job.resource), row.field) in custom_pii
            )
            values = row.sealed_values if isinstance(row.sealed_values, dict) else {}
            message = row.message
            for value in values.values() if pii_field else ():
                text = str(value).strip() if isinstance(value, str | int | float) else ""
                if len(text) >= 3 and text in message:
                    message = message.replace(text, "***")
            if message != row.message:
                row.message = message
                changed.append(row)
        row_error.objects.bulk_update(changed, ["message"])
        last_pk = batch[-1].pk


def unseal(apps, schema_editor) -> None:
    _copy(apps, reverse=True)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_name_collation_indexes"),
        ("integrations", "0009_connection_name_error"),
    ]

    operations = [
        migrations.AddField(
            model_name="idempotencyrecord",
            name="sealed_response_data",
            field=customers.crypto.fields.EncryptedJSONField(null=True),
        ),
        migrations.AddField(
            model_name="importrowerror",
            name="sealed_values",
            field=customers.crypto.fields.EncryptedJSONField(blank=True, default=dict),
        ),
        migrations.RunPython(seal, unseal, elidable=False),
    ]
