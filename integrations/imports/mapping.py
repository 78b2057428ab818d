"""Which input column feeds which field: explicit mappings first, then the names people use.

Headers match our own field names and dotted export paths (``company.id``), the common English
and Chinese spellings (``E-mail``, ``电子邮件``, ``First Name``, ``名``), and custom fields by name
or label in either language. Comparison ignores case, spaces, dashes and underscores.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from customers.models import CustomField
from customers.representation import Kind, entity_spec

CUSTOM_PREFIX = "custom_fields."

COMPANY_DOMAIN_ALIASES = (
    "company.domain",
    "company domain",
    "company domain name",
    "company website",
    "account website",
    "公司网站",
    "公司域名",
)

# The spellings people use for each target (a field of the representation, or another key a
# related record is looked up by). A field without spellings here is matched by its name.
_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "contacts": {
        "id": ("id", "crm id"),
        "external_id": (
            "external id",
            "externalid",
            "external ref",
            "外部编号",
            "外部id",
            # another CRM's own id of the record (Salesforce, HubSpot): our external id
            "contact id",
            "record id",
        ),
        "first_name": ("first name", "firstname", "given name", "forename", "名", "名字"),
        "last_name": ("last name", "lastname", "surname", "family name", "姓", "姓氏"),
        "title": ("title", "job title", "position", "职位", "职务", "头衔"),
        "email": (
            "email",
            "e-mail",
            "email address",
            "e-mail address",
            "mail",
            "邮箱",
            "电子邮件",
            "电子邮箱",
            "邮件",
        ),
        "phone": (
            "phone",
            "telephone",
            "tel",
            "mobile",
            "phone number",
            "mobile phone",
            "电话",
            "手机",
            "手机号",
            "电话号码",
            "联系电话",
        ),
        "address": ("address", "postal address", "mailing address", "地址", "联系地址"),
        "lifecycle_stage": ("lifecycle stage", "lifecycle", "生命周期", "阶段"),
        "source": ("source", "lead source", "来源", "线索来源"),
        "notes": ("notes", "note", "comments", "备注", "说明"),
        "tags": ("tags", "tag", "labels", "标签"),
        "owner": ("owner", "owner.username", "owner username", "负责人", "所有者"),
        # a "Company" column holding names rather than ids is read as names
        "company": ("company", "company.id", "company id"),
        # another CRM's id of the account (Salesforce "Account ID"): the company's external id
        "company_external_id": ("company.external_id", "company external id", "account id"),
        "company_name": (
            "company name",
            "account",
            "account name",
            "associated company",
            "organisation",
            "organization",
            "organisation name",
            "organization name",
            "公司",
            "公司名称",
            "单位",
            "客户名称",
        ),
        "company_domain": COMPANY_DOMAIN_ALIASES,
        "consent_email": ("consent email", "email opt in", "email consent", "邮件许可"),
        "consent_phone": ("consent phone", "phone opt in", "phone consent", "电话许可"),
    },
    "companies": {
        "id": ("id", "crm id"),
        "external_id": ("external id", "externalid", "外部编号", "外部id"),
        "name": ("name", "company", "company name", "account name", "公司", "公司名称", "名称"),
        "domain": ("domain", "website", "web", "网站", "域名"),
        "industry": ("industry", "sector", "行业"),
        "size_band": ("size", "size band", "employees", "规模"),
        "country": ("country", "country code", "国家"),
        "phone": ("phone", "telephone", "tel", "电话", "联系电话"),
        "address": ("address", "地址"),
        "owner": ("owner", "owner.username", "负责人"),
        "tags": ("tags", "tag", "标签"),
    },
    "deals": {
        "id": ("id", "crm id"),
        "external_id": ("external id", "externalid", "外部编号"),
        "name": ("name", "deal", "deal name", "opportunity", "商机", "名称"),
        "amount": ("amount", "value", "deal value", "金额"),
        "currency": ("currency", "币种", "货币"),
        "stage": ("stage", "stage.id", "stage id", "阶段"),
        "status": ("status", "状态"),
        "expected_close_date": ("expected close date", "close date", "预计成交日期"),
        "company": ("company", "company.id", "company id"),
        "company_external_id": ("company.external_id", "company external id", "account id"),
        "company_name": (
            "company name",
            "account",
            "account name",
            "associated company",
            "公司",
            "公司名称",
            "客户名称",
        ),
        "company_domain": COMPANY_DOMAIN_ALIASES,
        "primary_contact": ("primary contact", "primary_contact.id", "contact id"),
        "primary_contact_email": (
            "primary_contact.email",
            "primary contact email",
            "contact email",
            "联系人邮箱",
        ),
        "owner": ("owner", "owner.username", "负责人"),
        "tags": ("tags", "tag", "标签"),
    },
}

_ENTITIES = {"contacts": "contact", "companies": "company", "deals": "deal"}


def _targets(resource: str) -> list[str]:
    """What a column can feed: ``id`` (to match), the representation's writable fields in its
    order (custom fields each by name, see ``known_fields``), then the other keys a related
    record is looked up by (``company_name``)."""
    entity = entity_spec(_ENTITIES[resource])
    fields = ["id", *(spec.name for spec in entity.writable if spec.kind is not Kind.CUSTOM)]
    return fields + [name for name in _ALIASES[resource] if name not in fields]


def _read_only_columns() -> frozenset[str]:
    """Columns our exports write that an import reads for matching or ignores on purpose: the
    read-only fields (the id aside, which matches), and of each related record the column the
    import does not read (its label, or for a record named by its label, its id)."""
    columns: set[str] = set()
    for resource, entity_name in _ENTITIES.items():
        for spec in entity_spec(entity_name):
            if spec.name == "id":
                continue
            if not spec.writable:
                columns.update(spec.csv_columns or (spec.name,))
            elif spec.reference is not None:
                id_column, label_column = spec.csv_columns
                named_by_label = label_column in _ALIASES[resource].get(spec.name, ())
                columns.add(id_column if named_by_label else label_column)
    return frozenset(columns)


READ_ONLY_COLUMNS = _read_only_columns()

_SEPARATORS = re.compile(r"[\s_\-]+")


def _key(text: str) -> str:
    return _SEPARATORS.sub(" ", str(text).strip().lower()).strip()


@dataclass(frozen=True)
class ColumnMapping:
    """``targets`` maps each used input column to a field name (``custom_fields.<name>`` for
    custom fields); ``ignored`` lists the columns no field takes."""

    targets: dict[str, str]
    ignored: list[str]


def field_order(resource: str) -> list[str]:
    """The resource's importable fields in the order people read them."""
    return _targets(resource)


def known_fields(resource: str, definitions: Iterable[CustomField]) -> set[str]:
    return set(_targets(resource)) | {f"{CUSTOM_PREFIX}{field.name}" for field in definitions}


def resolve_mapping(
    *,
    resource: str,
    headers: Sequence[str],
    definitions: Iterable[CustomField],
    explicit: Mapping[str, str | None] | None = None,
) -> ColumnMapping:
    definitions = list(definitions)
    explicit = dict(explicit or {})
    fields = known_fields(resource, definitions)
    lookup: dict[str, str] = {}
    for field in _targets(resource):
        for alias in (field, *_ALIASES[resource].get(field, ())):
            lookup.setdefault(_key(alias), field)
    for definition in definitions:
        target = f"{CUSTOM_PREFIX}{definition.name}"
        for alias in (definition.name, target, definition.label, definition.label_zh):
            if alias:
                lookup.setdefault(_key(alias), target)

    unknown = {
        header: target
        for header, target in explicit.items()
        if target and _normalise_target(target, definitions) not in fields
    }
    if unknown:
        raise ValidationError(
            {
                "mapping": [
                    _("Column %(column)s maps to unknown field %(field)s.")
                    % {"column": repr(header), "field": repr(target)}
                    for header, target in unknown.items()
                ]
            }
        )

    targets: dict[str, str] = {}
    ignored: list[str] = []
    for header in headers:
        if header in explicit:
            target = explicit[header]
            target = _normalise_target(target, definitions) if target else None
        else:
            target = None if header in READ_ONLY_COLUMNS else lookup.get(_key(header))
        if target is None or target in targets.values():
            ignored.append(header)
        else:
            targets[header] = target
    return ColumnMapping(targets=targets, ignored=ignored)


def _normalise_target(target: str, definitions: Iterable[CustomField]) -> str:
    if any(target == definition.name for definition in definitions):
        return f"{CUSTOM_PREFIX}{target}"
    return target
