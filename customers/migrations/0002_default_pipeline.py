"""A fresh CRM starts with one default sales pipeline, so deals can be created at once."""

from django.db import migrations

STAGES = (
    ("Qualification", 10, "open"),
    ("Needs analysis", 25, "open"),
    ("Proposal", 50, "open"),
    ("Negotiation", 75, "open"),
    ("Closed won", 100, "won"),
    ("Closed lost", 0, "lost"),
)


def create_default_pipeline(apps, schema_editor):
    Pipeline = apps.get_model("customers", "Pipeline")
    Stage = apps.get_model("customers", "Stage")
    if Pipeline.objects.exists():
        return
    pipeline = Pipeline.objects.create(name="Sales", is_default=True)
    Stage.objects.bulk_create(
        Stage(pipeline=pipeline, name=name, position=position, win_probability=chance, outcome=outcome)
        for position, (name, chance, outcome) in enumerate(STAGES)
    )


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(create_default_pipeline, migrations.RunPython.noop)]
