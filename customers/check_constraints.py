"""Check constraints evaluated in Python when a record is validated, not by a query.

Django validates a ``CheckConstraint`` (``Model.full_clean``, a ``ModelForm``, the admin) by
asking the database: ``SELECT 1 WHERE <condition over the values as literals>``. For a
contact that was one more query per write, and building it (an annotation per field) cost
more than the rest of the record's validation: about a quarter of a 1,000-record REST batch.
Our constraints compare a record's own columns with constants (``first_name=""``,
``amount__gte=0``, ``email_index__isnull=True``), which Python answers exactly, with SQL's
three-valued logic: a comparison with NULL is unknown, and a condition that comes out
unknown passes, as it does in the database's CHECK (Django's query wraps it in
``COALESCE(…, true)`` for the same reason).

Anything this evaluator does not know (a lookup across a relation, an expression, a lookup
other than the plain comparisons) is left to Django's own query, so the declaration on the
model stays the one rule and the database stays its judge.
"""

import operator
from collections.abc import Callable, Collection
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models, router
from django.db.models.constants import LOOKUP_SEP
from django.db.models.expressions import Combinable

# None: SQL's unknown (a comparison with NULL).
Truth = bool | None


class NotInPython(Exception):
    """The condition needs the database to be evaluated."""


def _compare(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Truth]:
    def lookup(value: Any, constant: Any) -> Truth:
        if value is None or constant is None:
            return None
        try:
            return bool(compare(value, constant))
        except TypeError as error:  # a value of another type than the column's: ask SQL
            raise NotInPython from error

    return lookup


def _isnull(value: Any, constant: Any) -> Truth:
    if not isinstance(constant, bool):
        raise NotInPython
    return (value is None) is constant


def _in(value: Any, constants: Any) -> Truth:
    if value is None:
        return None
    if not isinstance(constants, (list, tuple, set, frozenset)):
        raise NotInPython
    known = [constant for constant in constants if constant is not None]
    if value in known:
        return True
    return None if len(known) < len(constants) else False


_LOOKUPS: dict[str, Callable[[Any, Any], Truth]] = {
    "exact": _compare(operator.eq),
    "gt": _compare(operator.gt),
    "gte": _compare(operator.ge),
    "lt": _compare(operator.lt),
    "lte": _compare(operator.le),
    "in": _in,
    "isnull": _isnull,
}


def _not(truth: Truth) -> Truth:
    return None if truth is None else not truth


def _and(truths: list[Truth]) -> Truth:
    if False in truths:
        return False
    return None if None in truths else True


def _or(truths: list[Truth]) -> Truth:
    if True in truths:
        return True
    return None if None in truths else False


def _column_value(instance: models.Model, name: str) -> tuple[str, Any]:
    """(the field's name, the instance's value of its column) for a local, concrete field."""
    try:
        field = instance._meta.get_field(name)
    except FieldDoesNotExist as error:
        raise NotInPython from error
    if not getattr(field, "concrete", False) or field.many_to_many:
        raise NotInPython
    return field.name, getattr(instance, field.attname)


def evaluate(condition: models.Q, instance: models.Model, fields: set[str] | None = None) -> Truth:
    """The condition's truth for `instance`'s values (None: unknown). The names of the fields
    it reads are added to `fields`. Raises ``NotInPython`` where only SQL can tell."""
    truths: list[Truth] = []
    for child in condition.children:
        if isinstance(child, models.Q):
            truths.append(evaluate(child, instance, fields))
            continue
        path, constant = child
        if isinstance(constant, Combinable) or hasattr(constant, "resolve_expression"):
            raise NotInPython
        name, _separator, lookup = path.partition(LOOKUP_SEP)
        lookup = lookup or "exact"
        if lookup not in _LOOKUPS:
            raise NotInPython
        if lookup == "exact" and constant is None:
            lookup, constant = "isnull", True  # as the ORM reads field=None
        field_name, value = _column_value(instance, name)
        if fields is not None:
            fields.add(field_name)
        truths.append(_LOOKUPS[lookup](value, constant))
    if condition.connector == models.Q.AND:
        truth = _and(truths)
    elif condition.connector == models.Q.OR:
        truth = _or(truths)
    else:
        raise NotInPython
    return _not(truth) if condition.negated else truth


def violated(
    constraint: models.CheckConstraint, instance: models.Model, exclude: Collection[str]
) -> bool | None:
    """True when `instance` breaks `constraint`, False when it keeps it or a field the
    condition reads is excluded (Django's rule: those failed their own validation), None when
    the database must be asked."""
    fields: set[str] = set()
    try:
        truth = evaluate(constraint.condition, instance, fields)
    except NotInPython:
        return None
    if fields & set(exclude or ()):
        return False
    return truth is False


class CheckConstraintsInPython(models.Model):
    """Model mixin: ``validate_constraints`` answers check constraints in Python (above) and
    leaves unique constraints, and any condition Python cannot answer, to Django. The loop is
    Django's own (``Model.validate_constraints``), errors reported the same way."""

    class Meta:
        abstract = True

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        using = router.db_for_write(self.__class__, instance=self)
        errors: dict[str, list[ValidationError]] = {}
        for model_class, constraints in self.get_constraints():
            for constraint in constraints:
                try:
                    _validate(constraint, model_class, self, exclude, using)
                except ValidationError as error:
                    if getattr(error, "code", None) == "unique" and len(constraint.fields) == 1:
                        errors.setdefault(constraint.fields[0], []).append(error)
                    else:
                        errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)


def _validate(
    constraint: models.BaseConstraint,
    model_class: type[models.Model],
    instance: models.Model,
    exclude: Collection[str] | None,
    using: str,
) -> None:
    verdict = (
        violated(constraint, instance, exclude or ())
        if isinstance(constraint, models.CheckConstraint)
        and isinstance(constraint.condition, models.Q)
        else None
    )
    if verdict is None:
        constraint.validate(model_class, instance, exclude=exclude, using=using)
    elif verdict:
        raise ValidationError(
            constraint.get_violation_error_message(), code=constraint.violation_error_code
        )
