"""The Django admin for the CRM's records. Every admin reads through ``customers.selectors`` and
writes through ``customers.services``; see ``base`` for how forms validate through them."""

from customers.admin import access_attempts, activities, contacts, custom_fields, deals, tags

__all__ = ["access_attempts", "activities", "contacts", "custom_fields", "deals", "tags"]
