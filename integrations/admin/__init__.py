"""Admin for integration records.

API keys: see and revoke them. Keys are created by ``create_api_token`` (or the UI), which shows
the raw key once; the stored hash is never shown.

Bulk jobs: an import is started from the add form (through ``imports.import_create``) and then
only watched, cancelled or deleted; exports are listed with a link to their download. Users see
their own jobs unless they may change any (managers), as in the REST API.

Connections are written through ``services.sync`` (secrets never shown), their runs read-only;
webhook subscriptions paused and resumed, deliveries replayed, through the webhooks services.
Schedules themselves are django-celery-beat's periodic tasks, in its own admin, whose actions
are given the permission they need here.
"""

from integrations.admin import api_keys, connections, exports, imports, schedules, webhooks

__all__ = ["api_keys", "connections", "exports", "imports", "schedules", "webhooks"]
