"""A configured connection to an external source, and each scheduled run of it."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.crypto import EncryptedTextField


class Connection(models.Model):
    """An external source synced on a schedule into contacts, companies or deals.

    ``config`` holds the connector's plain keys; its secret keys (headers, passwords) live
    encrypted in ``secrets`` (a JSON object) and are never shown back.
    """

    name = models.CharField(_("name"), max_length=100)
    connector = models.CharField(_("connector"), max_length=50)
    config = models.JSONField(_("configuration"), default=dict, blank=True)
    secrets = EncryptedTextField(_("secret configuration"), null=True, blank=True)
    mapping = models.JSONField(
        _("field mapping"),
        default=dict,
        blank=True,
        help_text=_("Source field → our field; empty matches by name and common header names."),
    )
    resource = models.CharField(_("resource"), max_length=16)
    mode = models.CharField(_("mode"), max_length=16)
    match_key = models.CharField(_("match key"), max_length=16)
    create_related = models.BooleanField(
        _("create related records"),
        default=False,
        help_text=_(
            "Create the company a row names (and, for deals, the contact by email) when no "
            "record matches."
        ),
    )
    schedule = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        verbose_name=_("schedule"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="connection",
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    cursor = models.CharField(_("cursor"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("connection")
        verbose_name_plural = _("connections")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                name="connection_name_unique",
                violation_error_code="unique",  # reported next to the name field
                violation_error_message=_("A connection with this name already exists."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class SyncRun(models.Model):
    """One run of a connection: what was fetched, what the import made of it, the cursor
    before and after. Per-record errors are the import job's error report, plus those of
    records the source could not give in a usable shape (``source_errors``).

    A run asked for by hand (REST, UI) is created ``queued`` in the request, so its id can be
    answered at once; the task that runs it, or failing that the next scheduled run, claims it.
    ``started_at`` is then when it was asked for until claimed."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        PARTIALLY_SUCCEEDED = "partially_succeeded", _("Partially succeeded")
        FAILED = "failed", _("Failed")

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.RUNNING
    )
    import_job = models.OneToOneField(
        "integrations.ImportJob",
        verbose_name=_("import job"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sync_run",
    )
    cursor_before = models.CharField(_("cursor before"), max_length=500, blank=True)
    cursor_after = models.CharField(_("cursor after"), max_length=500, blank=True)
    fetched = models.PositiveIntegerField(_("fetched"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    deleted = models.PositiveIntegerField(_("deleted"), default=0)
    # External ids the source deleted, applied once the run's import has committed.
    pending_deletions = models.JSONField(_("pending deletions"), default=list, blank=True)
    source_errors = models.JSONField(_("source errors"), default=list, blank=True)
    error_message = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    fetched_at = models.DateTimeField(_("fetched at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # The scheduled task message that started the run: the same message delivered again
    # (a worker lost before its ack) finds its run made and starts no second one.
    message_id = models.CharField(_("task message"), max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["connection", "message_id"], name="syncrun_connection_message"),
        ]

    def __str__(self) -> str:
        return f"{self.connection} at {self.started_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status not in (self.Status.QUEUED, self.Status.RUNNING)
