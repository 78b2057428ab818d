"""Integration records: partner API keys (import/export jobs, connections and webhooks to come).

An API key is stored as its public prefix and a SHA-256 hash; the raw key is shown once at
creation and never kept. ``integrations.services.api_keys`` creates, checks and revokes them.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.crypto import EncryptedJSONField


class ApiKey(models.Model):
    name = models.CharField(_("name"), max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="api_keys",
        help_text=_("Requests made with the key act as this user, within the key's scopes."),
    )
    prefix = models.CharField(_("prefix"), max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]
        constraints = [
            # A constraint rather than unique=True: no useless *_like index on PostgreSQL.
            models.UniqueConstraint(fields=["prefix"], name="api_key_prefix_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class IdempotencyRecord(models.Model):
    """The first response to a POST sent with an ``Idempotency-Key``, replayed on retries.

    Written in the same transaction as the request's own writes, so a retry after a crash
    either finds the response or finds nothing was written. The response body holds decrypted
    PII (and error bodies echo input), so it is stored encrypted; records older than
    IDEMPOTENCY_KEY_TTL_HOURS are purged nightly (``idempotency_records_purge``).
    """

    owner = models.CharField(max_length=64, help_text=_("The API key or user the key belongs to."))
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text=_("Hash of method, path and body."))
    status_code = models.PositiveSmallIntegerField()
    response_data = EncryptedJSONField(null=True)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.owner}: {self.key}"


class Resource(models.TextChoices):
    CONTACTS = "contacts", _("Contacts")
    COMPANIES = "companies", _("Companies")
    DEALS = "deals", _("Deals")


# The custom-field entity of each resource (``CustomField.entity``).
ENTITY_OF_RESOURCE = {"contacts": "contact", "companies": "company", "deals": "deal"}


class FileFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSON = "json", "JSON"
    XML = "xml", "XML"


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    PARTIALLY_SUCCEEDED = "partially_succeeded", _("Partially succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


FINISHED_STATUSES = (
    JobStatus.SUCCEEDED,
    JobStatus.PARTIALLY_SUCCEEDED,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
)


class ImportJob(models.Model):
    """A file to import, its options, its live progress and its outcome.

    ``checkpoint`` is the number of the last record whose chunk committed: a job restarted
    after a crash skips up to it, and the chunk upsert is idempotent besides.
    """

    class Mode(models.TextChoices):
        INSERT = "insert", _("Insert new records only")
        UPDATE = "update", _("Update existing records only")
        UPSERT = "upsert", _("Insert or update")

    class MatchKey(models.TextChoices):
        EXTERNAL_ID = "external_id", _("External id")
        EMAIL = "email", _("Email")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    resource = models.CharField(_("resource"), max_length=16, choices=Resource.choices)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_filename = models.CharField(_("file name"), max_length=255, blank=True)
    format = models.CharField(_("format"), max_length=8, choices=FileFormat.choices, blank=True)
    encoding = models.CharField(_("encoding"), max_length=32, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=4, blank=True)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, default=Mode.UPSERT)
    match_key = models.CharField(
        _("match by"), max_length=16, choices=MatchKey.choices, default=MatchKey.EXTERNAL_ID
    )
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    all_or_nothing = models.BooleanField(_("all or nothing"), default=False)
    create_related = models.BooleanField(
        _("create related records"),
        default=False,
        help_text=_(
            "Create the company a row names (and, for deals, the contact by email) when no "
            "record matches."
        ),
    )

    status = models.CharField(
        _("status"), max_length=24, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    rows_total = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    rows_processed = models.PositiveIntegerField(_("processed"), default=0)
    rows_created = models.PositiveIntegerField(_("created"), default=0)
    rows_updated = models.PositiveIntegerField(_("updated"), default=0)
    rows_unchanged = models.PositiveIntegerField(
        _("unchanged"),
        default=0,
        help_text=_("Rows equal to the stored record: matched, not written."),
    )
    rows_skipped = models.PositiveIntegerField(_("skipped"), default=0)
    rows_failed = models.PositiveIntegerField(_("failed"), default=0)
    companies_created = models.PositiveIntegerField(
        _("companies created"),
        default=0,
        help_text=_("Companies the rows named that did not exist (create related records)."),
    )
    contacts_created = models.PositiveIntegerField(
        _("contacts created"),
        default=0,
        help_text=_("Contacts the deals named by email that did not exist."),
    )
    checkpoint = models.PositiveIntegerField(default=0, editable=False)
    error_message = models.TextField(_("error"), blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    file_deleted_at = models.DateTimeField(
        _("file deleted at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the retention period removed the uploaded file (the job stays)."),
    )

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import #{self.pk} ({self.resource}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def percent_done(self) -> float | None:
        """Records processed out of those in the file, to one decimal; None until counted."""
        if self.rows_total is None:
            return None
        if self.rows_total == 0:
            return 100.0 if self.is_finished else 0.0
        return round(min(self.rows_processed, self.rows_total) * 100 / self.rows_total, 1)


class ImportRowError(models.Model):
    """One problem with one input record: what the per-row error report lists.

    ``values`` is the record as it was in the file, PII included, so it is stored encrypted;
    the report masks PII columns for readers who may not see PII
    (``integrations.imports.reports``).
    """

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField()
    field = models.CharField(max_length=100, blank=True)
    message = models.TextField()
    values = EncryptedJSONField(default=dict, blank=True)

    class Meta:
        ordering = ["job", "row_number", "id"]
        indexes = [models.Index(fields=["job", "row_number"], name="import_row_error_job_idx")]

    def __str__(self) -> str:
        return f"Row {self.row_number}: {self.field or '-'}: {self.message}"


class ImportCreatedRecord(models.Model):
    """A related record an import created because no record matched (``create_related``):
    what the job's report lists. Only the id is kept: the name is read from the record, so no
    personal data (a contact's email) is copied here."""

    class Entity(models.TextChoices):
        COMPANY = "company", _("Company")
        CONTACT = "contact", _("Contact")

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="created_records")
    entity = models.CharField(max_length=16, choices=Entity.choices)
    record_id = models.PositiveBigIntegerField()
    row_number = models.PositiveIntegerField(help_text=_("The first row that named it."))

    class Meta:
        ordering = ["job", "entity", "row_number", "id"]
        indexes = [models.Index(fields=["job", "entity"], name="import_created_job_idx")]

    def __str__(self) -> str:
        return f"{self.entity} {self.record_id} (row {self.row_number})"


class ExportJob(models.Model):
    """A filtered set written to a file for download, in the background."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    resource = models.CharField(_("resource"), max_length=16, choices=Resource.choices)
    format = models.CharField(_("format"), max_length=8, choices=FileFormat.choices)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    include_pii = models.BooleanField(_("PII decrypted"), default=False)
    status = models.CharField(
        _("status"), max_length=24, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    rows_written = models.PositiveIntegerField(_("rows"), default=0)
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", blank=True)
    error_message = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # stamped while the export runs (integrations.services.job_heartbeat), so a job sweep on
    # any node tells a running export from one whose worker died
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    file_deleted_at = models.DateTimeField(
        _("file deleted at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the retention period removed the file (the job stays)."),
    )

    class Meta:
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Export #{self.pk} ({self.resource} as {self.format}, {self.status})"


# Models that live beside the code that uses them, registered with this app from here.
from integrations.connectors.models import Connection, SyncRun  # noqa: E402, F401
from integrations.scheduler.models import SchedulerLease  # noqa: E402, F401
from integrations.webhooks.models import (  # noqa: E402, F401
    RelayCursor,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
