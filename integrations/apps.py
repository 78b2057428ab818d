from celery.signals import worker_ready
from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from customers.events import events_committed
        from integrations import signals
        from integrations.connectors import tasks as sync_tasks  # noqa: F401 (registers tasks)
        from integrations.webhooks import tasks as webhook_tasks  # noqa: F401
        from integrations.webhooks import triggers as webhook_triggers

        worker_ready.connect(signals.sweep_jobs_on_worker_start, weak=False)
        events_committed.connect(webhook_triggers.relay_after_commit, weak=False)
        worker_ready.connect(webhook_triggers.sweep_on_worker_start, weak=False)
