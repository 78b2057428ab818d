"""Helpers shared by the write services: apply input, resolve relations, validate, save."""

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from customers.actors import Actor
from customers.custom_fields.values import apply_custom_values
from customers.models import Tag
from customers.services.rules import is_list_of_names, tag_names_by_key, unknown_reference

ModelT = TypeVar("ModelT", bound=models.Model)
# Messages per field, gathered across a write's steps so that one answer names every mistake.
Errors = dict[str, list]

# Text columns that cannot be NULL: a null from a door (a CSV cell, an XML nil) means "".
_TEXT_FIELDS = (models.CharField, models.TextField)


def reject_unknown_fields(data: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})


def resolve(model: type[ModelT], value: Any, *, field: str) -> ModelT | None:
    """Accept an instance, a primary key or None, so every door can pass what it has."""
    if value is None or value == "":
        return None
    if isinstance(value, model):
        return value
    if isinstance(value, models.Model):
        raise ValidationError(
            {field: _("Expected a %(model)s.") % {"model": model._meta.verbose_name}}
        )
    try:
        return model._default_manager.get(pk=value)
    except (model.DoesNotExist, ValueError, TypeError):
        raise ValidationError(
            {field: unknown_reference(model, value)}, code="does_not_exist"
        ) from None


def resolve_references(
    values: dict[str, Any],
    references: Iterable[tuple[str, type[models.Model]]],
    errors: Errors,
) -> None:
    """``resolve`` each named reference present in `values`, in place. One that cannot be
    resolved leaves `values` and its message joins `errors`, so the caller reports it together
    with the record's other mistakes instead of one at a time."""
    for name, model in references:
        if name in values:
            try:
                values[name] = resolve(model, values[name], field=name)
            except ValidationError as error:
                del values[name]
                error.update_error_dict(errors)


def clean_text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def blank_to_none(value: Any) -> Any:
    value = clean_text(value)
    return None if value == "" else value


def assign(instance: models.Model, data: Mapping[str, Any]) -> set[str]:
    """Set plain attributes, trimming text; return the names whose value changed."""
    changed = set()
    for name, value in data.items():
        field = instance._meta.get_field(name)
        if isinstance(field, _TEXT_FIELDS) and value is None and not field.null:
            value = ""
        value = clean_text(value)
        new = value.pk if isinstance(value, models.Model) else value
        if getattr(instance, field.attname) != new:
            changed.add(name)
        setattr(instance, name, value)
    return changed


def validate(
    instance: models.Model,
    *,
    aliases: Mapping[str, str] | None = None,
    errors: Errors | None = None,
) -> None:
    """Run the model's validation, reporting index columns under the field a caller knows,
    together with the `errors` earlier steps found (unknown references, bad tag names). For a
    field those already name, the model's own message (such as "This field cannot be null."
    for a reference left unset) is left out: the earlier one says what is wrong."""
    found: Errors = {name: list(messages) for name, messages in (errors or {}).items()}
    try:
        instance.full_clean()
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            error.update_error_dict(found)
        else:
            for name, messages in error.error_dict.items():
                name = (aliases or {}).get(name, name)
                if not errors or name not in errors:
                    found.setdefault(name, []).extend(messages)
    if found:
        raise ValidationError(found)


def validate_record(
    instance: models.Model,
    *,
    custom_fields: Mapping[str, Any] | None,
    aliases: Mapping[str, str] | None = None,
    errors: Errors | None = None,
) -> None:
    """Apply and check custom field values and the model's own rules, reporting both at once
    with the `errors` earlier steps found (see ``validate``)."""
    found: Errors = {name: list(messages) for name, messages in (errors or {}).items()}
    try:
        apply_custom_values(instance, custom_fields)
    except ValidationError as error:
        error.update_error_dict(found)
    validate(instance, aliases=aliases, errors=found)


def merge_custom_values(primary: models.Model, duplicates: Iterable[models.Model]) -> None:
    """Fill the primary's unset custom fields from the duplicates, stored values as they are
    (PII stays encrypted, its index entry moves with it)."""
    for duplicate in duplicates:
        for name, value in (duplicate.custom_fields or {}).items():
            if name not in primary.custom_fields:
                primary.custom_fields[name] = value
                if name in (duplicate.custom_index or {}):
                    primary.custom_index[name] = duplicate.custom_index[name]


def upsert_by(
    *,
    model: type[ModelT],
    data: Mapping[str, Any],
    find: Callable[[str], ModelT | None],
    write: Callable[..., ModelT],
    actor: Actor,
    key: str = "external_id",
    create_defaults: Mapping[str, Any] | None = None,
) -> tuple[ModelT, bool]:
    """Update the record `find(data[key])` returns, or create one: (record, created), through
    the entity's ``write(record, data, *, actor)``. Idempotent: the same data twice leaves one
    record with that data."""
    value = blank_to_none(data.get(key))
    if value is None:
        raise ValidationError({key: _("A value is required to upsert by %(key)s.") % {"key": key}})
    existing = find(value)
    if existing is not None:
        return write(existing, data, actor=actor), False
    return write(model(), {**(create_defaults or {}), **data}, actor=actor), True


def action_of(adding: bool) -> str:
    """The observers' name for a write that created (`adding`) or updated a record."""
    return "created" if adding else "updated"


def replace_tags(instance: models.Model, tags: Iterable[Tag] | None, *, before: set[int]) -> bool:
    """Set a saved record's tags (None: leave them); True when the set changed."""
    if tags is None:
        return False
    tags = list(tags)
    instance.tags.set(tags)
    return {tag.pk for tag in tags} != before


def tag_ids(instance: models.Model, tags: Iterable[Tag] | None) -> set[int]:
    """The record's tag ids before a write that sets `tags` (no query when it does not)."""
    if tags is None or instance._state.adding:
        return set()
    return set(instance.tags.values_list("pk", flat=True))


def save(instance: models.Model) -> None:
    """Save, turning a constraint violation that slipped past validation (a concurrent write)
    into a validation error instead of a server error."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise ValidationError(
            {
                NON_FIELD_ERRORS: [
                    _("Conflicts with a concurrent change, please retry (%(error)s).")
                    % {"error": error}
                ]
            }
        ) from None


def pop_tag_names(values: dict[str, Any]) -> list[Any] | None:
    """The tag names a write gives (None: tags not given), as a list: they are read twice,
    checked with the other fields first and turned into tags once the record is valid."""
    names = values.pop("tags", None)
    return list(names) if is_list_of_names(names) else names


def check_tag_names(names: Iterable[str] | None, errors: Errors) -> None:
    """Add what is wrong with `names` (None: tags not given) to `errors`, creating nothing."""
    if names is None:
        return
    try:
        tag_names_by_key(names)
    except ValidationError as error:
        error.update_error_dict(errors)


def tags_from_names(names: Iterable[str]) -> list[Tag]:
    """Existing tags matched case-insensitively, missing ones created."""
    wanted = tag_names_by_key(names)
    if not wanted:
        return []
    existing = {tag.name_key: tag for tag in Tag.objects.filter(name_key__in=list(wanted))}
    return [existing.get(key) or Tag.objects.create(name=name) for key, name in wanted.items()]
