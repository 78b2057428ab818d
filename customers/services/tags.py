"""Writes for tags. Records are usually tagged by name through their own services.

Each takes the `actor` its door built and reports it to ``observers.notify``.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from customers.actors import Actor
from customers.models import Tag
from customers.services import observers
from customers.services._common import save, tags_from_names, validate


def tag_create(*, actor: Actor, name: str) -> Tag:
    """Return the tag with this name (any case), creating it when missing."""
    tag = tags_from_names([name])[0]
    observers.notify(actor=actor, entity="tag", action="created", records=[tag])
    return tag


def tag_rename(*, actor: Actor, tag: Tag, name: str) -> Tag:
    tag.name = (name or "").strip()
    if not tag.name:
        raise ValidationError({"name": _("A tag needs a name.")})
    tag.name_key = Tag.key_for(tag.name)
    validate(tag, aliases={"name_key": "name"})
    save(tag)
    observers.notify(actor=actor, entity="tag", action="updated", records=[tag])
    return tag


@transaction.atomic
def tag_merge(*, actor: Actor, primary: Tag, duplicate: Tag) -> Tag:
    """Everything tagged with `duplicate` gets `primary` instead."""
    for relation in ("contacts", "companies", "deals"):
        getattr(primary, relation).add(*getattr(duplicate, relation).all())
    observers.notify(actor=actor, entity="tag", action="deleted", records=[duplicate])
    duplicate.delete()
    observers.notify(actor=actor, entity="tag", action="merged", records=[primary])
    return primary


def tag_delete(*, actor: Actor, tag: Tag) -> None:
    observers.notify(actor=actor, entity="tag", action="deleted", records=[tag])
    tag.delete()
