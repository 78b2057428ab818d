import pytest

from crm_project.celery import app as celery_app


@pytest.fixture
def point_broker_at(settings, monkeypatch):
    """Send this test's broker connections elsewhere: `point_broker_at(url, options)`. Celery
    keeps its own copy of the settings and prefers CELERY_BROKER_URL from the environment, so
    all three change (and are put back)."""
    saved = celery_app.conf.broker_url, celery_app.conf.broker_transport_options

    def point(url: str, transport_options: dict | None = None) -> None:
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        settings.CELERY_BROKER_URL = celery_app.conf.broker_url = url
        if transport_options is not None:
            settings.CELERY_BROKER_TRANSPORT_OPTIONS = transport_options
            celery_app.conf.broker_transport_options = transport_options

    yield point
    celery_app.conf.broker_url, celery_app.conf.broker_transport_options = saved
