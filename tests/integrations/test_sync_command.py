"""`manage.py sync NAME [--full]`: a connection run in this process, with a progress bar and a
summary on stderr, and an exit status that says whether the run failed."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from customers.models import Contact
from integrations.models import SyncRun
from integrations.services import sync
from tests.integrations.test_connectors import api_config
from tests.integrations.test_connectors import source as source  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("allow_loopback")]


def make_connection(name: str, connector: str, config: dict, **overrides):
    options = {
        "mapping": {"id": "external_id", "updated_at": None} if connector == "rest_json" else {},
        "resource": "contacts",
    }
    return sync.connection_create(
        name=name, connector=connector, config=config, **{**options, **overrides}
    )


def sync_command(*args: str) -> str:
    """Runs the command and answers its stderr (where the bar and the summary go)."""
    err = io.StringIO()
    call_command("sync", *args, stderr=err, stdout=io.StringIO())
    return err.getvalue()


def test_a_run_shows_a_progress_bar_and_its_counts(source):  # noqa: F811
    _, base_url = source
    make_connection("Legacy ERP", "rest_json", api_config(base_url))

    output = sync_command("Legacy ERP")

    assert "[##############################] 100.0%  7/7 rows" in output
    assert "7 fetched, 7 created, 0 updated" in output and "(succeeded, run #" in output
    assert Contact.objects.count() == 7
    assert SyncRun.objects.get().status == SyncRun.Status.SUCCEEDED


def test_the_next_run_starts_from_the_cursor_and_full_ignores_it(source):  # noqa: F811
    _, base_url = source
    make_connection("Legacy ERP", "rest_json", api_config(base_url))
    sync_command("Legacy ERP")

    again = sync_command("Legacy ERP")
    full = sync_command("Legacy ERP", "--full")

    assert "0 fetched" in again
    assert "7 fetched, 0 created, 0 updated, 7 unchanged" in full
    assert "from the beginning" in full and Contact.objects.count() == 7


def test_a_drop_folder_inside_the_roots_is_synced(tmp_path, settings):
    settings.CONNECTOR_FILE_ROOTS = [str(tmp_path)]
    (tmp_path / "people.csv").write_text(
        "external_id,first_name\nF-1,伟\nF-2,芳\n", encoding="utf-8"
    )
    make_connection("Drop", "file", {"folder": str(tmp_path)})

    output = sync_command("Drop")

    assert "2 fetched, 2 created" in output
    assert [p.name for p in (tmp_path / "done").iterdir()] == ["people.csv"]


@pytest.mark.usefixtures("quick_connector_retries")
def test_a_failed_run_exits_1_with_its_error_and_the_cursor_stays():
    connection = make_connection("Gone", "rest_json", api_config("http://127.0.0.1:9"))

    with pytest.raises(CommandError) as error:
        sync_command("Gone")

    assert error.value.returncode == 1
    assert "failed" in str(error.value) and "127.0.0.1:9" in str(error.value)
    connection.refresh_from_db()
    assert connection.cursor == "" and SyncRun.objects.get().status == SyncRun.Status.FAILED


def test_rejected_records_exit_2_and_are_listed(tmp_path, settings):
    settings.CONNECTOR_FILE_ROOTS = [str(tmp_path)]
    (tmp_path / "people.csv").write_text(
        "external_id,first_name,email\nF-1,伟,wei@example.com\nF-2,芳,not-an-email\n",
        encoding="utf-8",
    )
    make_connection("Drop", "file", {"folder": str(tmp_path)})

    with pytest.raises(CommandError) as error:
        sync_command("Drop")

    assert error.value.returncode == 2 and "1 of 2 records" in str(error.value)
    assert Contact.objects.count() == 1


def test_an_unknown_name_exits_1_naming_the_connections_there_are():
    make_connection("Legacy ERP", "rest_json", api_config("http://127.0.0.1:9"))

    with pytest.raises(CommandError) as error:
        sync_command("Legacy")

    assert error.value.returncode == 1 and "Legacy ERP" in str(error.value)
    assert not SyncRun.objects.exists()


def test_a_disabled_connection_is_not_run():
    make_connection("Off", "rest_json", api_config("http://127.0.0.1:9"), enabled=False)

    with pytest.raises(CommandError, match="disabled"):
        sync_command("Off")
    assert not SyncRun.objects.exists()
