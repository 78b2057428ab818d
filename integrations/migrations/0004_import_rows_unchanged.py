from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0003_import_export_jobs"),
    ]

    operations = [
        migrations.AddField(
            model_name="importjob",
            name="rows_unchanged",
            field=models.PositiveIntegerField(
                default=0,
                help_text="Rows equal to the stored record: matched, not written.",
                verbose_name="unchanged",
            ),
        ),
        migrations.AddField(
            model_name="importjob",
            name="file_deleted_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="When the retention period removed the uploaded file (the job stays).",
                null=True,
                verbose_name="file deleted at",
            ),
        ),
        migrations.AddField(
            model_name="exportjob",
            name="file_deleted_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="When the retention period removed the file (the job stays).",
                null=True,
                verbose_name="file deleted at",
            ),
        ),
    ]
