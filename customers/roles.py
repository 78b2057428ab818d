"""The built-in roles: `sales` works the pipeline, `manager` also deletes, merges and runs it.

Groups are (re)applied after every migrate, so a fresh database and an upgraded one agree.
Permissions are only added, never removed, so an administrator's extra grants survive.
"""

from typing import Any

from django.contrib.auth.models import Group, Permission

SALES = "sales"
MANAGER = "manager"

_WORKED_MODELS = ("company", "contact", "deal", "activity", "tag")
_SALES_CODENAMES = [
    f"{action}_{model}" for model in _WORKED_MODELS for action in ("view", "add", "change")
] + ["view_pipeline", "view_stage", "view_pii", "view_user", "view_customfield"]
# Bulk jobs: everyone runs their own; managers also see, cancel and delete everyone's.
_JOB_MODELS = ("importjob", "exportjob")
_SALES_CODENAMES += [f"{action}_{model}" for model in _JOB_MODELS for action in ("view", "add")]
_MANAGER_CODENAMES = (
    _SALES_CODENAMES
    + [f"delete_{model}" for model in _WORKED_MODELS]
    + [
        f"{action}_{model}"
        for model in ("pipeline", "stage", "customfield")
        for action in ("add", "change", "delete")
    ]
    + [f"{action}_{model}" for model in _JOB_MODELS for action in ("change", "delete")]
    # Integrations: webhook subscriptions (their deliveries are read and replayed through them).
    + [
        f"{action}_{model}"
        for model in ("webhooksubscription", "connection")
        for action in ("view", "add", "change", "delete")
    ]
    + ["view_webhookdelivery", "change_webhookdelivery", "view_syncrun"]
)

ROLE_PERMISSIONS: dict[str, list[str]] = {
    SALES: _SALES_CODENAMES,
    MANAGER: _MANAGER_CODENAMES,
}


def ensure_default_groups(**kwargs: Any) -> None:
    for group_name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        permissions = Permission.objects.filter(
            codename__in=codenames,
            content_type__app_label__in=("customers", "auth", "integrations"),
        )
        group.permissions.add(*permissions)
