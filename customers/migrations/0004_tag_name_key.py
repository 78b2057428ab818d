"""Tags are unique by their Python case-folded name (SQLite's LOWER() only folds ASCII)."""

from django.db import migrations, models


def fill_name_keys(apps, schema_editor):
    Tag = apps.get_model("customers", "Tag")
    for tag in Tag.objects.all().only("pk", "name"):
        Tag.objects.filter(pk=tag.pk).update(name_key=tag.name.strip().casefold()[:64])


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_custom_fields")]

    operations = [
        migrations.RemoveConstraint(model_name="tag", name="tag_name_unique_ci"),
        migrations.AddField(
            model_name="tag",
            name="name_key",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="tag",
            constraint=models.UniqueConstraint(
                fields=("name_key",),
                name="tag_name_key_unique",
                violation_error_code="unique",
                violation_error_message="A tag with this name already exists.",
            ),
        ),
    ]
