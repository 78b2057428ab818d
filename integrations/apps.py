from celery.signals import worker_ready
from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from integrations import signals

        worker_ready.connect(signals.resume_stalled_imports, weak=False)
