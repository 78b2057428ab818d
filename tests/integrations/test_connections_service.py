"""The rules every door's connection writes share (``integrations.services.connections`` and
the schedule ``sync.Schedule`` checks), tested once here rather than through each door."""

import pytest
from django.core.exceptions import ValidationError

from integrations.services import connections, sync


@pytest.mark.parametrize(
    "line", ["61 * * * *", "* 24 * * *", "* * 32 * *", "* * * 0 *", "* * * * 8", "*/0 * * * *"]
)
def test_a_crontab_value_out_of_range_is_refused_whichever_door_builds_the_schedule(line):
    with pytest.raises(ValidationError) as error:
        sync.Schedule(crontab=line)  # what the admin's form builds, as the others

    assert list(error.value.message_dict) == ["schedule"]


@pytest.mark.parametrize("line", ["*/15 * * * *", "0 2 * * 1-5", "0 0 1 1 *", "30 8 * * mon-fri"])
def test_crontab_lines_celery_beat_reads_are_accepted(line):
    assert connections.schedule_from({"crontab": line}) == sync.Schedule(crontab=line)


def test_a_schedule_reads_back_in_the_shape_it_was_given():
    assert connections.schedule_from({"every_minutes": 15}) == sync.Schedule(every_seconds=900)
    assert connections.schedule_from(None) is None


def _rest_connection(url: str):
    return sync.connection_create(
        name="ERP", connector="rest_json", config={"url": url}, resource="contacts"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("http://127.0.0.1:8000/api/", "config.url"),
        ("http://2130706433/", "config.url"),
        ("http://localhost/", "config.url"),
        ("http://[fe80::1]/", "config.url"),
    ],
)
def test_a_url_written_as_a_non_public_address_is_refused_when_saved(url, key):
    with pytest.raises(ValidationError) as error:
        _rest_connection(url)  # the service the admin's form calls too

    assert list(error.value.message_dict) == [key]


@pytest.mark.django_db
def test_an_allowed_network_or_a_host_name_is_saved_without_resolving_it(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.0/8"

    assert _rest_connection("http://127.0.0.1:8000/api/").pk
    assert sync.connection_create(
        name="Named",
        connector="rest_json",
        config={"url": "https://erp.invalid/api/"},  # .invalid never resolves
        resource="contacts",
    ).pk
