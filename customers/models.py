"""The CRM's domain: companies, contacts, pipelines and deals, activities and tags.

Models hold data and single-row invariants only. Every write goes through ``customers.services``,
which keeps the blind indexes (``email_index``, ``phone_index``) in step with the encrypted values.
"""

import re
from decimal import Decimal

from django.conf import settings
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.check_constraints import CheckConstraintsInPython
from customers.crypto import EncryptedCharField, EncryptedEmailField, EncryptedTextField
from customers.validators import validate_phone

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def format_full_name(first_name: str, last_name: str) -> str:
    """'Wei Zhang', but '张伟': CJK names are written family name first, with no space."""
    if _CJK.search(first_name + last_name):
        return f"{last_name}{first_name}"
    return " ".join(part for part in (first_name, last_name) if part)


currency_code_validator = RegexValidator(
    r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 currency code, e.g. CNY or USD.")
)
country_code_validator = RegexValidator(
    r"^[A-Z]{2}$", _("Use a two-letter ISO 3166 country code, e.g. CN or US.")
)


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        abstract = True


class ExternallyIdentifiedModel(TimeStampedModel):
    """A record other systems can upsert by their own id (unique when set)."""

    external_id = models.CharField(_("external id"), max_length=255, null=True, blank=True)

    class Meta:
        abstract = True


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=64)
    # The name case-folded in Python: one rule for "same tag" on every database (SQLite's LOWER()
    # only folds ASCII, so a functional index would disagree with Python about "Ärger").
    name_key = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name_key"],
                name="tag_name_key_unique",
                violation_error_code="unique",
                violation_error_message=_("A tag with this name already exists."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.name_key = self.key_for(self.name)
        super().save(*args, **kwargs)

    @staticmethod
    def key_for(name: str) -> str:
        return name.strip().casefold()[:64]


class Company(ExternallyIdentifiedModel):
    class SizeBand(models.TextChoices):
        MICRO = "1-10", "1–10"
        SMALL = "11-50", "11–50"
        MEDIUM = "51-200", "51–200"
        LARGE = "201-1000", "201–1,000"
        ENTERPRISE = "1001-5000", "1,001–5,000"
        GLOBAL = "5001+", "5,001+"

    name = models.CharField(_("name"), max_length=255)
    domain = models.CharField(_("domain"), max_length=255, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    size_band = models.CharField(_("size"), max_length=16, choices=SizeBand.choices, blank=True)
    country = models.CharField(
        _("country"), max_length=2, blank=True, validators=[country_code_validator]
    )
    address = EncryptedTextField(
        _("address"), null=True, blank=True, validators=[MaxLengthValidator(1000)]
    )
    phone = EncryptedCharField(
        _("phone"), max_length=64, null=True, blank=True, validators=[validate_phone]
    )
    phone_index = models.CharField(max_length=64, null=True, blank=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_companies",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="companies")
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    custom_index = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                name="company_external_id_unique",
                violation_error_code="unique",
                violation_error_message=_("Another company already has this external id."),
            ),
        ]
        # Meta.indexes rather than db_index: no useless *_like index on PostgreSQL.
        indexes = [
            models.Index(fields=["phone_index"], name="company_phone_index_idx"),
            models.Index(fields=["name"], name="company_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(CheckConstraintsInPython, ExternallyIdentifiedModel):
    class Lifecycle(models.TextChoices):
        LEAD = "lead", _("Lead")
        PROSPECT = "prospect", _("Prospect")
        CUSTOMER = "customer", _("Customer")
        CHURNED = "churned", _("Churned")

    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    title = models.CharField(_("job title"), max_length=150, blank=True)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
    )
    email = EncryptedEmailField(_("email"), max_length=254, null=True, blank=True)
    email_index = models.CharField(max_length=64, null=True, blank=True, editable=False)
    phone = EncryptedCharField(
        _("phone"), max_length=64, null=True, blank=True, validators=[validate_phone]
    )
    phone_index = models.CharField(max_length=64, null=True, blank=True, editable=False)
    address = EncryptedTextField(
        _("address"), null=True, blank=True, validators=[MaxLengthValidator(1000)]
    )
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=16,
        choices=Lifecycle.choices,
        default=Lifecycle.LEAD,
    )
    source = models.CharField(_("source"), max_length=100, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_contacts",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="contacts")
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    custom_index = models.JSONField(default=dict, blank=True, editable=False)
    notes = models.TextField(_("notes"), blank=True, validators=[MaxLengthValidator(100_000)])
    consent_email = models.BooleanField(_("consents to marketing email"), default=False)
    consent_phone = models.BooleanField(_("consents to calls and SMS"), default=False)
    consent_updated_at = models.DateTimeField(_("consent updated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["last_name", "first_name", "id"]
        permissions = [("view_pii", "Can view personal data (email, phone, address) decrypted")]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                name="contact_external_id_unique",
                violation_error_code="unique",
                violation_error_message=_("Another contact already has this external id."),
            ),
            models.UniqueConstraint(
                fields=["email_index"],
                name="contact_email_unique",
                violation_error_code="unique",
                violation_error_message=_("Another contact already has this email address."),
            ),
            models.CheckConstraint(
                condition=~models.Q(
                    first_name="",
                    last_name="",
                    email_index__isnull=True,
                    phone_index__isnull=True,
                ),
                name="contact_identifiable",
                violation_error_message=_("A contact needs a name, an email or a phone number."),
            ),
        ]
        indexes = [
            models.Index(fields=["phone_index"], name="contact_phone_index_idx"),
            models.Index(fields=["last_name", "first_name"], name="contact_name_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name or f"Contact #{self.pk}"

    @property
    def full_name(self) -> str:
        return format_full_name(self.first_name, self.last_name)


class Pipeline(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    is_default = models.BooleanField(_("default pipeline"), default=False)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="pipeline_single_default",
                violation_error_message=_("Only one pipeline can be the default."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class Stage(CheckConstraintsInPython, models.Model):
    class Outcome(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    pipeline = models.ForeignKey(
        Pipeline,
        verbose_name=_("pipeline"),
        on_delete=models.CASCADE,
        related_name="stages",
    )
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)
    win_probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), default=0, validators=[MaxValueValidator(100)]
    )
    outcome = models.CharField(
        _("outcome"), max_length=8, choices=Outcome.choices, default=Outcome.OPEN
    )

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pipeline", "name"],
                name="stage_name_unique",
                violation_error_message=_("This pipeline already has a stage with this name."),
            ),
            models.CheckConstraint(
                condition=models.Q(win_probability__lte=100),
                name="stage_probability_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline.name} / {self.name}"


class Deal(CheckConstraintsInPython, ExternallyIdentifiedModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    name = models.CharField(_("name"), max_length=255)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
    )
    primary_contact = models.ForeignKey(
        Contact,
        verbose_name=_("primary contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
    )
    amount = models.DecimalField(
        _("amount"),
        max_digits=16,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(_("currency"), max_length=3, validators=[currency_code_validator])
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals"
    )
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=Status.choices,
        default=Status.OPEN,
        db_index=True,
    )
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_deals",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="deals")
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    custom_index = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                name="deal_external_id_unique",
                violation_error_code="unique",
                violation_error_message=_("Another deal already has this external id."),
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0),
                name="deal_amount_not_negative",
                violation_error_message=_("The amount cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Activity(ExternallyIdentifiedModel):
    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        EMAIL = "email", _("Email")
        MEETING = "meeting", _("Meeting")
        NOTE = "note", _("Note")
        TASK = "task", _("Task")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"), blank=True, validators=[MaxLengthValidator(100_000)])
    due_at = models.DateTimeField(_("due at"), null=True, blank=True, db_index=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    # SET_NULL: deleting a contact, company or deal never deletes the history logged against it.
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activities",
    )
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activities",
    )
    deal = models.ForeignKey(
        Deal,
        verbose_name=_("deal"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activities",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="authored_activities",
    )

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                name="activity_external_id_unique",
                violation_error_code="unique",
                violation_error_message=_("Another activity already has this external id."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"


class CustomField(TimeStampedModel):
    """A field an administrator adds at run time. Values live in the record's ``custom_fields``
    JSON column (encrypted per value when ``pii``), validated by the services on every write."""

    class Entity(models.TextChoices):
        CONTACT = "contact", _("Contact")
        COMPANY = "company", _("Company")
        DEAL = "deal", _("Deal")

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        LONG_TEXT = "long_text", _("Long text")
        INTEGER = "integer", _("Integer")
        DECIMAL = "decimal", _("Decimal")
        DATE = "date", _("Date")
        DATETIME = "datetime", _("Date and time")
        BOOLEAN = "boolean", _("Yes/no")
        CHOICE = "choice", _("Choice")
        MULTI_CHOICE = "multi_choice", _("Multiple choice")
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone")
        URL = "url", _("URL")

    entity = models.CharField(_("entity"), max_length=16, choices=Entity.choices)
    name = models.CharField(
        _("name"),
        max_length=64,
        validators=[
            RegexValidator(
                r"^[a-z][a-z0-9_]*$",
                _("Use lower-case letters, digits and underscores, starting with a letter."),
            )
        ],
    )
    label = models.CharField(_("label"), max_length=100)
    label_zh = models.CharField(_("Chinese label"), max_length=100, blank=True)
    type = models.CharField(_("type"), max_length=16, choices=Type.choices)
    required = models.BooleanField(_("required"), default=False)
    default = models.JSONField(_("default"), null=True, blank=True)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    pii = models.BooleanField(_("personal data (encrypted, masked)"), default=False)
    unique = models.BooleanField(_("unique"), default=False)
    help_text = models.CharField(_("help text"), max_length=500, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["entity", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "name"],
                name="custom_field_name_unique",
                violation_error_code="unique",
                violation_error_message=_("This entity already has a custom field with this name."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.entity}.{self.name}"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class UserPreference(models.Model):
    """Per-user settings of the web UI (today: the language, which wins over the browser's)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="preference",
    )
    language = models.CharField(
        _("language"), max_length=16, blank=True, choices=settings.LANGUAGES
    )

    class Meta:
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self) -> str:
        return f"{self.user} ({self.language or 'browser'})"


class ChangeEvent(models.Model):
    """A domain event (``contact.updated``…), written by the services in the same transaction
    as the change it describes: the transactional outbox the change feed and webhooks read.

    It names the record and which fields changed, never their values (so it holds no personal
    data): readers render the record as it is now, with their own right to see PII.
    """

    id = models.BigAutoField(primary_key=True)
    type = models.CharField(_("type"), max_length=40)
    entity = models.CharField(_("entity"), max_length=16)
    record_id = models.BigIntegerField(_("record id"))
    external_id = models.CharField(_("external id"), max_length=255, null=True, blank=True)
    changed_fields = models.JSONField(_("changed fields"), default=list, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)
    # PostgreSQL: the writing transaction's id. Ids are not committed in id order there, so
    # the feed reads in (txid, id) order up to the oldest transaction still running. SQLite
    # commits one writer at a time, so there it stays 0 and id order is commit order.
    txid = models.BigIntegerField(_("transaction id"), default=0)

    class Meta:
        verbose_name = _("change event")
        verbose_name_plural = _("change events")
        indexes = [
            models.Index(fields=["txid", "id"], name="change_event_feed_order"),
            models.Index(fields=["entity", "record_id"], name="change_event_record"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.record_id}"
