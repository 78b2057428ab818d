from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from customers import roles
        from customers.api import schema, schema_custom_fields  # noqa: F401  (OpenAPI extensions)

        post_migrate.connect(roles.ensure_default_groups, sender=self)
