"""Turning one mapped input record into clean field values, or into per-field errors.

The rules are the models' own (max lengths, choices, validators such as the email and phone
checks), applied field by field without building a form or a serializer per row. Relations are
resolved for a whole chunk at once (`ChunkLookups`), never with a query per row.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, MaxLengthValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from customers import crypto
from customers.custom_fields import types as custom_types
from customers.models import Company, Contact, CustomField, Deal, Stage
from customers.services.rules import check_deal_status, tag_names_by_key, unknown_reference
from customers.services.typed_values import read_boolean, read_date, read_decimal
from integrations.formats.csv_cells import split_list
from integrations.imports.mapping import CUSTOM_PREFIX

User = get_user_model()

MODELS: dict[str, type[models.Model]] = {
    "contacts": Contact,
    "companies": Company,
    "deals": Deal,
}
# Relation targets naming another record: resolved with the chunk's lookups (a query each).
REFERENCE_TARGETS = {
    "owner",
    "company",
    "company_external_id",
    "company_name",
    "company_domain",
    "primary_contact",
    "primary_contact_email",
    "stage",
}
# The targets that together name a row's company (an id, an external id, a name, a domain).
COMPANY_TARGETS = ("company", "company_external_id", "company_domain", "company_name")
# Mapped targets that are not plain model fields; everything else is one.
RELATION_TARGETS = {"id", "tags", *REFERENCE_TARGETS}
TRUE_WORDS = custom_types.TRUE_WORDS
FALSE_WORDS = custom_types.FALSE_WORDS


@dataclass
class CleanRow:
    number: int
    values: dict[str, Any] = field(default_factory=dict)  # model field name -> python value
    custom: dict[str, Any] = field(default_factory=dict)  # custom field name -> raw value
    tags: list[str] | None = None
    record_id: int | None = None  # the "id" column: our own export's primary key
    errors: dict[str, list[str]] = field(default_factory=dict)
    original: Mapping[str, Any] = field(default_factory=dict)  # as read, by the file's headers
    # blind indexes of the row's email and phone, when computed where the row was prepared
    email_index: str | None = None
    phone_index: str | None = None
    # references to other records (owner, company…), resolved for the whole chunk at once
    references: dict[str, Any] = field(default_factory=dict)

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


@dataclass
class ChunkLookups:
    """Everything the rows of one chunk refer to, fetched with one query per kind."""

    owners: dict[str, int] = field(default_factory=dict)  # lower username or id text -> id
    company_ids: set[int] = field(default_factory=set)
    companies_by_external_id: dict[str, int] = field(default_factory=dict)
    companies_by_name: dict[str, int] = field(default_factory=dict)  # lower name -> id
    companies_by_domain: dict[str, int] = field(default_factory=dict)  # see domain_key
    contact_ids: set[int] = field(default_factory=set)
    contacts_by_email_index: dict[str, int] = field(default_factory=dict)
    stages: dict[str, int] = field(default_factory=dict)  # id text or lower name -> id

    @classmethod
    def for_rows(cls, rows: Iterable[Mapping[str, Any]]) -> "ChunkLookups":
        wanted: dict[str, set[str]] = {}
        for row in rows:
            for target in (
                "owner",
                "company",
                "company_external_id",
                "company_name",
                "company_domain",
                "stage",
                "primary_contact",
                "primary_contact_email",
            ):
                value = _text(row.get(target))
                if value:
                    if target == "company" and not value.isdigit():
                        target = "company_name"  # a "Company" column of names
                    wanted.setdefault(target, set()).add(value)
        lookups = cls()
        if owners := wanted.get("owner"):
            ids = {int(value) for value in owners if value.isdigit()}
            names = {value.lower() for value in owners}
            users = User.objects.annotate(lowered=Lower("username")).filter(
                models.Q(pk__in=ids) | models.Q(lowered__in=names)
            )
            for pk, lowered in users.values_list("pk", "lowered"):
                lookups.owners[lowered] = pk
                lookups.owners[str(pk)] = pk
        if ids := {int(v) for v in wanted.get("company", ()) if v.isdigit()}:
            lookups.company_ids = set(
                Company.objects.filter(pk__in=ids).values_list("pk", flat=True)
            )
        if external_ids := wanted.get("company_external_id"):
            lookups.companies_by_external_id = dict(
                Company.objects.filter(external_id__in=external_ids).values_list(
                    "external_id", "pk"
                )
            )
        if names := wanted.get("company_name"):
            lowered = {name.lower() for name in names}
            # the exact names too, and keyed by Python's lower(): SQLite's LOWER() folds ASCII
            # only, and a re-run must find "ÖKO GmbH" as the run before created it
            for pk, name in (
                Company.objects.annotate(lowered=Lower("name"))
                .filter(models.Q(lowered__in=lowered) | models.Q(name__in=names))
                .order_by("-pk")
                .values_list("pk", "name")
            ):
                if name.lower() in lowered:
                    lookups.companies_by_name[name.lower()] = pk  # the oldest wins (newest first)
        if domains := {domain_key(value) for value in wanted.get("company_domain", ())}:
            domains.discard("")
            lookups.add_companies_by_domain(domains)
        if emails := wanted.get("primary_contact_email"):
            indexes = {crypto.email_index(email) for email in emails} - {None, ""}
            lookups.contacts_by_email_index = dict(
                Contact.objects.filter(email_index__in=indexes)
                .order_by("-pk")
                .values_list("email_index", "pk")
            )
        if ids := {int(v) for v in wanted.get("primary_contact", ()) if v.isdigit()}:
            lookups.contact_ids = set(
                Contact.objects.filter(pk__in=ids).values_list("pk", flat=True)
            )
        if stages := wanted.get("stage"):
            ids = {int(value) for value in stages if value.isdigit()}
            names = {value.lower() for value in stages}
            found = Stage.objects.annotate(lowered=Lower("name")).filter(
                models.Q(pk__in=ids) | models.Q(lowered__in=names)
            )
            for pk, lowered in found.order_by("-pipeline__is_default", "-pk").values_list(
                "pk", "lowered"
            ):
                lookups.stages[lowered] = pk  # the default pipeline's stage wins a name clash
                lookups.stages[str(pk)] = pk
        return lookups

    def add_companies_by_domain(self, domains: set[str]) -> None:
        """Companies whose domain is one of `domains` (as ``domain_key`` gives them): stored
        domains are compared lower-cased, with and without ``www.``."""
        variants = domains | {f"www.{domain}" for domain in domains}
        found = (
            Company.objects.annotate(lowered=Lower("domain"))
            .filter(lowered__in=variants)
            .order_by("-pk")
            .values_list("pk", "lowered")
        )
        for pk, lowered in found:
            self.companies_by_domain[domain_key(lowered)] = pk  # the oldest wins

    def company_for(self, wanted: "CompanyWanted") -> int | None:
        """The company a row names: by external id, else by domain, else by name."""
        for pk in (
            self.companies_by_external_id.get(wanted.external_id) if wanted.external_id else None,
            self.companies_by_domain.get(wanted.domain) if wanted.domain else None,
            self.companies_by_name.get(wanted.name.lower()) if wanted.name else None,
        ):
            if pk is not None:
                return pk
        return None


@dataclass(frozen=True)
class CompanyWanted:
    """A company as a row names it, other than by our id: what matching and creating use."""

    name: str = ""
    domain: str = ""  # as domain_key gives it
    external_id: str = ""

    @classmethod
    def of(cls, references: Mapping[str, Any]) -> "CompanyWanted | None":
        """None when the row names no company this way (no such column, empty cells, or an
        id in the ``company`` column)."""
        company = _text(references.get("company"))
        name = _text(references.get("company_name")) or ("" if company.isdigit() else company)
        domain = domain_key(_text(references.get("company_domain")))
        external_id = _text(references.get("company_external_id"))
        if company.isdigit() or not (name or domain or external_id):
            return None
        return cls(name=name, domain=domain, external_id=external_id)


_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")


def domain_key(value: str) -> str:
    """A website as people write it (``https://www.Acme.com/about``) reduced to the domain
    compared (``acme.com``)."""
    domain = _SCHEME.sub("", value.strip().lower())
    domain = domain.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    domain = domain.rsplit("@", 1)[-1].split(":", 1)[0].strip(".")
    return domain.removeprefix("www.")


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def clean_row(
    *,
    resource: str,
    number: int,
    mapped: Mapping[str, Any],
    lookups: ChunkLookups,
    definitions: Mapping[str, CustomField],
    original: Mapping[str, Any] | None = None,
) -> CleanRow:
    """`original` is the record as read, by the file's own column names: what the error report
    shows for a rejected row (the mapped values when not given)."""
    row = clean_own_values(resource=resource, number=number, mapped=mapped, original=original)
    resolve_references(row, lookups, definitions)
    return row


def clean_own_values(
    *,
    resource: str,
    number: int,
    mapped: Mapping[str, Any],
    original: Mapping[str, Any] | None = None,
) -> CleanRow:
    """The first half of `clean_row`, which needs no database: every value of the row itself
    checked, references to other records kept aside for `resolve_references` (a chunk's rows
    can be cleaned this far in another process while this one writes the previous chunk)."""
    row = CleanRow(number=number, original=mapped if original is None else original)
    plans = _plans[resource]
    for target, raw in mapped.items():
        cleaner, custom_name, kind = plans.get(target) or _plan(resource, target)
        if type(raw) is not str and isinstance(raw, _CONTAINERS) and kind != "custom":
            if target != "tags":
                row.fail(target, not_a_single_value(raw))
                continue
            if any(isinstance(item, _CONTAINERS) for item in raw):
                row.fail(target, _("Each tag must be a name, not an object or a list."))
                continue
        if cleaner is not None:
            try:
                row.values[target] = cleaner(raw)
            except ValidationError as error:
                for message in error.messages:  # one each, as the services list them
                    row.fail(target, message)
        elif custom_name is not None:
            row.custom[custom_name] = raw
        elif kind == "reference":
            row.references[target] = raw
        else:
            _clean_relation(row, target, raw, None)
    return row


_CONTAINERS = (Mapping, list, tuple)


def not_a_single_value(raw: Any) -> str:
    """What a JSON or XML record put where one value belongs: an object or a list (custom
    fields and tags judge their own values)."""
    if isinstance(raw, Mapping):
        return _("Expected text or a number, not an object.")
    return _("Expected text or a number, not a list.")


def misplaced_objects(
    row: CleanRow, values: Mapping[str, Any], field_of: Callable[[str], str | None]
) -> None:
    """A record's object under a key naming a plain field (``{"first_name": {"a": 1}}``) is
    that field's error. Without this the object would be flattened to columns no field takes
    (``first_name.a``), and the field silently left empty. `field_of` names the field a key
    maps to; an object standing for a related record (``{"company": {"id": 3}}``) is fine."""
    for key, value in values.items():
        if isinstance(value, Mapping) and value and "id" not in value:
            target = field_of(key) or CUSTOM_PREFIX
            plain = target not in RELATION_TARGETS and not target.startswith(CUSTOM_PREFIX)
            if plain and target not in row.errors:
                row.fail(target, not_a_single_value(value))


def resolve_references(
    row: CleanRow, lookups: ChunkLookups, definitions: Mapping[str, CustomField]
) -> None:
    """The second half of `clean_row`: references resolved through the chunk's lookups, and a
    rejected row's custom values checked so its report lists every problem."""
    resolve_plain_references(row, lookups)
    resolve_related_references(row, lookups, definitions)


# The targets naming a record an import may create for the row (its ``create_related``).
CREATABLE_TARGETS = (*COMPANY_TARGETS, "primary_contact_email")


def resolve_plain_references(row: CleanRow, lookups: ChunkLookups) -> None:
    """Every reference but those naming a record the import may create (owner, stage, our
    ids): resolved first, so a row they reject creates nothing for itself."""
    for target, raw in row.references.items():
        if target not in CREATABLE_TARGETS:
            _clean_relation(row, target, raw, lookups)


def resolve_related_references(
    row: CleanRow, lookups: ChunkLookups, definitions: Mapping[str, CustomField]
) -> None:
    """After `resolve_plain_references` (and what the import created): the row's company and
    a deal's contact by email, and a rejected row's custom values checked."""
    references = row.references
    if "primary_contact_email" in references:
        _clean_relation(row, "primary_contact_email", references["primary_contact_email"], lookups)
    if any(target in references for target in COMPANY_TARGETS):
        _resolve_company(row, lookups)
    if row.errors:
        _check_custom_values(row, definitions)


def _check_custom_values(row: CleanRow, definitions: Mapping[str, CustomField]) -> None:
    """Custom values of a row that is rejected anyway, checked so its report lists every
    problem. A row that is not rejected has them checked once, by the same rules, where they
    are applied (`apply_custom_values`), instead of twice."""
    for name, raw in row.custom.items():
        try:
            custom_types.coerce(definitions[name], raw)
        except ValidationError as error:
            row.fail(f"{CUSTOM_PREFIX}{name}", " ".join(error.messages))


# Per resource, per mapped target: (its field's cleaner, or its custom field's name, or
# neither) and its kind, worked out once per target instead of once per cell.
_plans: defaultdict[str, dict[str, tuple]] = defaultdict(dict)


def _plan(resource: str, target: str) -> tuple[Callable[[Any], Any] | None, str | None, str]:
    if target.startswith(CUSTOM_PREFIX):
        plan = (None, target[len(CUSTOM_PREFIX) :], "custom")
    elif target in REFERENCE_TARGETS:
        plan = (None, None, "reference")
    elif target in RELATION_TARGETS:
        plan = (None, None, "relation")
    elif resource == "deals" and target == "status":
        plan = (_deal_status, None, "field")
    else:
        plan = (field_cleaner(MODELS[resource]._meta.get_field(target)), None, "field")
    _plans[resource][target] = plan
    return plan


def _deal_status(raw: Any) -> str:
    """A deal's status cell, checked by the services' rule; empty: follow the stage."""
    status = _text(raw)
    if status:
        try:
            check_deal_status(status)
        except ValidationError as error:
            raise ValidationError(error.messages) from None
    return status


def clean_value(model_field: models.Field, raw: Any) -> Any:
    """One value checked with the model field's own rules (type, length, choices, validators)."""
    value = raw.strip() if isinstance(raw, str) else raw
    if isinstance(model_field, models.BooleanField):
        return read_boolean(value)
    if value is None or value == "":
        if model_field.null:
            return None
        if isinstance(model_field, models.CharField | models.TextField):
            return ""
        if model_field.has_default():
            return model_field.get_default()
        raise ValidationError(_("This field cannot be empty."))
    if isinstance(model_field, models.DecimalField):
        value = read_decimal(value)
    elif isinstance(model_field, models.DateField) and not isinstance(
        model_field, models.DateTimeField
    ):
        value = read_date(value)
    elif isinstance(model_field, models.CharField) and model_field.name in ("currency", "country"):
        value = str(value).upper()
    value = model_field.to_python(value)
    model_field.run_validators(value)
    if model_field.choices and value not in {choice for choice, _ in model_field.flatchoices}:
        # the model field's own words, as ``full_clean`` gives them to the services
        message = model_field.error_messages["invalid_choice"]
        raise ValidationError(message, code="invalid_choice", params={"value": value})
    return value


@cache
def field_cleaner(model_field: models.Field) -> Callable[[Any], Any]:
    """`clean_value` for one field, compiled once: a text cell for a plain text field (most
    cells of a file) is stripped and run through the field's validators, with the lookups
    `clean_value` makes per call done here once; anything else takes the general path."""
    if not isinstance(model_field, models.CharField | models.TextField) or model_field.name in (
        "currency",
        "country",
    ):
        return partial(clean_value, model_field)
    empty = None if model_field.null else ""
    # A length limit is one comparison here (BaseValidator builds a params dict per call).
    limit = min(
        (v.limit_value for v in model_field.validators if _is_plain_max_length(v)),
        default=None,
    )
    validators = [
        _fast_email(v) if type(v) is EmailValidator else v
        for v in model_field.validators
        if not _is_plain_max_length(v)
    ]
    choices = {choice for choice, _ in model_field.flatchoices} if model_field.choices else None
    general = partial(clean_value, model_field)

    def clean_text_cell(raw: Any) -> Any:
        if type(raw) is not str:
            return general(raw)
        value = raw.strip()
        if not value:
            return empty
        if choices is not None:
            if value in choices:
                return value
            return general(value)  # the general path words the error
        try:
            if limit is not None and len(value) > limit:
                raise _TooLong
            for validator in validators:
                validator(value)
        except (ValidationError, _TooLong):
            model_field.run_validators(value)  # the field's own wording of the message
            raise
        return value

    return clean_text_cell


class _TooLong(Exception):
    """A text over the field's limit: the field's own validators then word the error."""


def _fast_email(validator: EmailValidator) -> Callable[[str], None]:
    """The validator's own two regular expressions, compiled here once (Django's are lazy
    objects: every use goes through a proxy). An address they both accept is one the validator
    accepts; anything else gets the full check, with its message."""
    user_re = re.compile(validator.user_regex.pattern, validator.user_regex.flags)
    domain_re = re.compile(validator.domain_regex.pattern, validator.domain_regex.flags)

    def validate(value: str) -> None:
        if "@" in value and len(value) <= 320:
            user, domain = value.rsplit("@", 1)
            if user_re.match(user) and domain_re.match(domain):
                return
        validator(value)

    return validate


def _is_plain_max_length(validator: Any) -> bool:
    return type(validator) is MaxLengthValidator and type(validator.limit_value) is int


def _clean_relation(row: CleanRow, target: str, raw: Any, lookups: ChunkLookups | None) -> None:
    value = _text(raw)
    if target == "tags":
        try:
            row.tags = _tags(raw)
        except ValidationError as error:
            row.fail("tags", " ".join(error.messages))
        return
    if target == "id":
        if value:
            if not value.isdigit():
                message = _("Expected a whole number, got %(value)s.") % {"value": repr(value)}
                row.fail("id", message)
            else:
                row.record_id = int(value)
        return
    if not value:
        if target in ("owner", "company", "primary_contact"):
            row.values[target + "_id"] = None
        return
    if target == "owner":
        owner = lookups.owners.get(value.lower())
        if owner is None:
            row.fail("owner", unknown_reference(User, value))
        row.values["owner_id"] = owner
    elif target == "primary_contact":
        contact = int(value) if value.isdigit() and int(value) in lookups.contact_ids else None
        if contact is None:
            row.fail("primary_contact", unknown_reference(Contact, value))
        row.values["primary_contact_id"] = contact
    elif target == "primary_contact_email":
        if "primary_contact_id" not in row.values:  # an id in the same row wins
            contact = lookups.contacts_by_email_index.get(crypto.email_index(value) or "")
            if contact is None:
                row.fail("primary_contact", _("No contact has this email."))
            row.values["primary_contact_id"] = contact
    elif target == "stage":
        stage = lookups.stages.get(value.lower())
        if stage is None:
            row.fail("stage", unknown_reference(Stage, value))
        row.values["stage_id"] = stage


def _resolve_company(row: CleanRow, lookups: ChunkLookups) -> None:
    """The row's company from every column that names it: our id wins; otherwise its
    external id, domain or name, in that order (a name the CRM spells differently still
    matches by domain). An empty id cell clears the link; empty name cells leave it."""
    company = _text(row.references.get("company"))
    if company.isdigit():
        found = int(company) if int(company) in lookups.company_ids else None
        if found is None:
            row.fail("company", unknown_reference(Company, company))
        row.values["company_id"] = found
        return
    wanted = CompanyWanted.of(row.references)
    if wanted is None:
        if "company" in row.references:  # as before: only an empty id column clears it
            row.values["company_id"] = None
        return
    found = lookups.company_for(wanted)
    if found is None and "company" in row.errors:
        pass  # creating it failed, and the row says why
    elif found is None:
        if wanted.name:
            message = _("No company is named %(name)s.") % {"name": repr(wanted.name)}
            row.fail("company", message)
        elif wanted.domain:
            message = _("No company has the domain '%(domain)s'.") % {"domain": wanted.domain}
            row.fail("company", message)
        else:
            message = _("No company has external id %(external_id)s.")
            row.fail("company", message % {"external_id": repr(wanted.external_id)})
    row.values["company_id"] = found


def _tags(raw: Any) -> list[str]:
    """The row's tag names by the services' rule (``rules.tag_names_by_key``): a name too long
    is refused, not cut. Empty names between separators ("a||b") are no names."""
    if raw is None or raw == "":
        return []
    # A CSV cell joins tags with "|", escaping a "|" inside a name as the API's CSV does.
    items = raw if isinstance(raw, list | tuple) else split_list(str(raw))
    return list(tag_names_by_key([name for item in items if (name := _text(item))]).values())
