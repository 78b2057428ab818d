"""Writes for tags. Records are usually tagged by name through their own services."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from customers.models import Tag
from customers.services._common import save, tags_from_names, validate


def tag_create(*, name: str) -> Tag:
    """Return the tag with this name (any case), creating it when missing."""
    return tags_from_names([name])[0]


def tag_rename(*, tag: Tag, name: str) -> Tag:
    tag.name = (name or "").strip()
    if not tag.name:
        raise ValidationError({"name": _("A tag needs a name.")})
    tag.name_key = Tag.key_for(tag.name)
    validate(tag, aliases={"name_key": "name"})
    save(tag)
    return tag


@transaction.atomic
def tag_merge(*, primary: Tag, duplicate: Tag) -> Tag:
    """Everything tagged with `duplicate` gets `primary` instead."""
    for relation in ("contacts", "companies", "deals"):
        getattr(primary, relation).add(*getattr(duplicate, relation).all())
    duplicate.delete()
    return primary


def tag_delete(*, tag: Tag) -> None:
    tag.delete()
