from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from customers import read_routing, roles
        from customers.api import schema, schema_custom_fields  # noqa: F401  (OpenAPI extensions)
        from customers.services import observers
        from customers.web import preferences  # noqa: F401  (its log-in receiver loads the language)

        # After every app, not just this one: the roles also grant integrations' permissions,
        # which exist only once that app (later in INSTALLED_APPS) has had its post_migrate.
        post_migrate.connect(roles.ensure_default_groups, dispatch_uid="customers.roles")
        # An actor that has written reads from the primary for a while (read-your-writes).
        observers.add_observer(read_routing.note_write)
