"""Connectors read real sources: a JSON API in its own process (paged, bearer auth, a 429 with
Retry-After, incremental by cursor), files from a drop folder and from a URL. Configuration is
checked key by key, and no connector reaches a private address unless it is allowed."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.core.exceptions import ValidationError

from integrations import outbound
from integrations.connectors import Connector, ConnectorError, connector_class
from integrations.connectors import file as file_connector
from integrations.connectors.file import FileConnector
from integrations.connectors.rest_json import RestJsonConnector

SERVER = Path(__file__).with_name("source_server.py")


def contact(number: int, updated_at: str, **values) -> dict:
    return {
        "id": number,
        "email": f"person{number}@example.com",
        "first_name": f"名{number}",
        "updated_at": updated_at,
        **values,
    }


@pytest.fixture
def drop_root(settings, tmp_path):
    """The test's folder is the only root drop folders may lie in."""
    settings.CONNECTOR_FILE_ROOTS = [str(tmp_path)]
    return tmp_path


@pytest.fixture
def source(tmp_path):
    """The external system: its data folder and base URL; the server runs in its own process."""
    (tmp_path / "files").mkdir()
    records = [contact(n, f"2026-11-0{n}T10:00:00Z") for n in range(1, 8)]
    (tmp_path / "contacts.json").write_text(json.dumps(records), encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, str(SERVER), str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(process.stdout.readline())
        yield tmp_path, f"http://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait(timeout=10)


def api_config(base_url: str, **overrides) -> dict:
    return {
        "url": f"{base_url}/api/contacts/",
        "records_path": "data.items",
        "next_path": "links.next",
        "since_param": "updated_since",
        "cursor_field": "updated_at",
        "headers": {"Authorization": "Bearer secret-token"},
        **overrides,
    }


def fetch_all(connector: Connector, cursor: str | None = None):
    fetch = connector.fetch(cursor)
    records = list(fetch)
    return records, fetch.cursor


# rest_json


@pytest.mark.usefixtures("allow_loopback")
def test_rest_json_reads_every_page_waits_out_a_429_and_returns_the_newest_cursor(source):
    data_dir, base_url = source

    records, cursor = fetch_all(RestJsonConnector(api_config(base_url)))

    assert [record.values["id"] for record in records] == [1, 2, 3, 4, 5, 6, 7]
    assert [record.number for record in records] == [1, 2, 3, 4, 5, 6, 7]
    assert records[0].values["first_name"] == "名1"
    assert cursor == "2026-11-07T10:00:00Z"
    served = requests.get(f"{base_url}/log", timeout=5).json()
    assert sum("page=2" in line for line in served) == 2  # throttled once, then served


@pytest.mark.usefixtures("allow_loopback")
def test_rest_json_fetches_only_what_changed_since_the_saved_cursor(source):
    data_dir, base_url = source
    connector = RestJsonConnector(api_config(base_url))
    _, cursor = fetch_all(connector)
    records = json.loads((data_dir / "contacts.json").read_text())
    records[2]["updated_at"] = "2026-11-20T09:00:00Z"
    records.append(contact(8, "2026-11-21T09:00:00Z"))
    (data_dir / "contacts.json").write_text(json.dumps(records))

    changed, new_cursor = fetch_all(connector, cursor)

    assert [record.values["id"] for record in changed] == [3, 8]
    assert new_cursor == "2026-11-21T09:00:00Z"
    unchanged, same_cursor = fetch_all(connector, new_cursor)
    assert (unchanged, same_cursor) == ([], new_cursor)


@pytest.mark.usefixtures("allow_loopback")
def test_rest_json_without_the_right_credentials_fails_with_the_status(source):
    _, base_url = source
    connector = RestJsonConnector(api_config(base_url, headers={"Authorization": "Bearer wrong"}))

    with pytest.raises(ConnectorError, match="401"):
        fetch_all(connector)


@pytest.mark.usefixtures("allow_loopback")
def test_rest_json_says_when_the_records_path_does_not_lead_to_a_list(source):
    _, base_url = source
    connector = RestJsonConnector(api_config(base_url, records_path="links"))

    with pytest.raises(ConnectorError, match="records_path"):
        fetch_all(connector)


def test_a_loopback_source_is_refused_unless_its_network_is_allowed(source, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ""
    _, base_url = source

    with pytest.raises(ConnectorError, match="OUTBOUND_ALLOWED_NETWORKS"):
        fetch_all(RestJsonConnector(api_config(base_url)))


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8000/",
        "http://192.168.0.10/",
        "http://0.0.0.0/",
    ],
)
def test_private_link_local_and_loopback_addresses_are_refused(url, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.0/8"  # allows IPv4 loopback only

    with pytest.raises(outbound.OutboundRefused):
        outbound.check_url(url)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://example.com/", "http:///x"])
def test_only_http_urls_with_a_host_are_called(url):
    with pytest.raises(outbound.OutboundRefused):
        outbound.check_url(url)


# Configuration


@pytest.mark.parametrize(
    ("config", "bad_key"),
    [
        ({}, "config.url"),
        ({"url": "http://example.com/", "record_path": "items"}, "config.record_path"),
        ({"url": "http://example.com/", "headers": "Authorization: x"}, "config.headers"),
        ({"url": "http://example.com/", "headers": {"X-Count": 3}}, "config.headers"),
        ({"url": "ftp://example.com/"}, "config.url"),
        ({"url": "http://example.com/", "timeout": True}, "config.timeout"),
    ],
)
def test_a_bad_configuration_is_refused_naming_the_key(config, bad_key):
    with pytest.raises(ValidationError) as error:
        RestJsonConnector(config)

    assert bad_key in error.value.message_dict


def test_connectors_are_found_by_name_and_an_unknown_name_lists_the_known_ones(settings):
    settings.CRM_CONNECTORS = {"legacy_api": "integrations.connectors.rest_json.RestJsonConnector"}

    assert connector_class("file") is FileConnector
    assert connector_class("legacy_api") is RestJsonConnector
    with pytest.raises(ValidationError, match="rest_json"):
        connector_class("nope")


def test_a_setting_naming_something_that_is_not_a_connector_is_refused(settings):
    settings.CRM_CONNECTORS = {"broken": "integrations.outbound.check_url"}

    with pytest.raises(ValidationError, match="not a Connector"):
        connector_class("broken")


# file


def write_drop_files(folder: Path) -> None:
    (folder / "a.csv").write_text("email,first_name\nzhang@example.com,伟\n", encoding="utf-8")
    (folder / "b.json").write_text('[{"email": "li@example.com", "first_name": "娜"}]')
    (folder / "c.xml").write_text(
        "<contacts><contact><email>wang@example.com</email>"
        "<first_name>芳</first_name></contact></contacts>",
        encoding="utf-8",
    )


@pytest.mark.usefixtures("drop_root")
def test_the_file_connector_reads_every_format_in_the_drop_folder_and_moves_them_aside(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    write_drop_files(drop)
    connector = FileConnector({"folder": str(drop)})

    fetch = connector.fetch(None)
    records = list(fetch)
    connector.acknowledge(fetch)

    assert [record.values["email"] for record in records] == [
        "zhang@example.com",
        "li@example.com",
        "wang@example.com",
    ]
    assert [record.values["first_name"] for record in records] == ["伟", "娜", "芳"]
    assert sorted(p.name for p in (drop / "done").iterdir()) == ["a.csv", "b.json", "c.xml"]
    assert list(connector.fetch(None)) == []


@pytest.mark.usefixtures("drop_root")
def test_files_are_left_in_place_until_their_records_are_acknowledged(tmp_path):
    write_drop_files(tmp_path)
    connector = FileConnector({"folder": str(tmp_path)})

    list(connector.fetch(None))  # the run failed before committing: no acknowledge

    assert len(list(FileConnector({"folder": str(tmp_path)}).fetch(None))) == 3


@pytest.mark.usefixtures("drop_root")
def test_an_unreadable_file_is_reported_and_moved_to_the_failed_folder(tmp_path):
    (tmp_path / "good.csv").write_text("email\nok@example.com\n")
    (tmp_path / "junk.csv").write_bytes(b"\x00\x01\x02binary\x00" * 50)
    connector = FileConnector({"folder": str(tmp_path), "pattern": "*.csv"})

    fetch = connector.fetch(None)
    records = list(fetch)
    connector.acknowledge(fetch)

    errors = [record.error for record in records if record.error]
    assert len(errors) == 1 and errors[0].startswith("junk.csv")
    assert [p.name for p in (tmp_path / "failed").iterdir()] == ["junk.csv"]
    assert [p.name for p in (tmp_path / "done").iterdir()] == ["good.csv"]


@pytest.mark.usefixtures("allow_loopback")
def test_a_file_at_a_url_is_read_again_only_when_it_changed(source):
    data_dir, base_url = source
    (data_dir / "files" / "people.csv").write_text("email\na@example.com\nb@example.com\n")
    connector = FileConnector({"url": f"{base_url}/files/people.csv"})

    first, cursor = fetch_all(connector)
    again, same_cursor = fetch_all(connector, cursor)
    (data_dir / "files" / "people.csv").write_text("email\nc@example.com\n")
    changed, _ = fetch_all(connector, cursor)

    assert [r.values["email"] for r in first] == ["a@example.com", "b@example.com"]
    assert (again, same_cursor) == ([], cursor)
    assert [r.values["email"] for r in changed] == ["c@example.com"]


@pytest.mark.usefixtures("drop_root")
def test_the_file_connector_needs_exactly_one_of_url_and_folder(tmp_path):
    with pytest.raises(ValidationError, match="either url or folder"):
        FileConnector({"url": "http://example.com/x.csv", "folder": str(tmp_path)})
    with pytest.raises(ValidationError) as error:
        FileConnector({"folder": str(tmp_path / "missing")})
    assert "config.folder" in error.value.message_dict


# file: drop folders stay inside CONNECTOR_FILE_ROOTS and away from the CRM's own files


def config_error(config: dict) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as error:
        FileConnector(config)
    return error.value.message_dict


def test_a_drop_folder_outside_the_roots_is_refused(drop_root, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")

    for folder in (str(elsewhere), f"{drop_root}/../{elsewhere.name}", "/etc", "../etc"):
        assert "config.folder" in config_error({"folder": folder}), folder


def test_a_link_out_of_the_roots_does_not_make_a_drop_folder(drop_root, tmp_path_factory):
    (drop_root / "inbox").symlink_to(tmp_path_factory.mktemp("elsewhere"))

    assert "config.folder" in config_error({"folder": str(drop_root / "inbox")})


def test_the_crm_s_own_folders_are_never_drop_folders_even_under_a_wide_root(settings):
    settings.CONNECTOR_FILE_ROOTS = ["/"]
    base = Path(settings.BASE_DIR)

    for folder in ("/", base, base / "templates", settings.VAR_DIR, settings.MEDIA_ROOT):
        errors = config_error({"folder": str(folder)})
        assert "config.folder" in errors, folder


def test_by_default_drop_folders_live_under_var_drop_which_is_created(settings, tmp_path):
    settings.CONNECTOR_FILE_ROOTS = []
    settings.VAR_DIR = tmp_path / "var"
    (tmp_path / "var").mkdir()
    assert "config.folder" in config_error({"folder": str(tmp_path)})

    (tmp_path / "var" / "drop" / "erp").mkdir(parents=True)
    connector = FileConnector({"folder": "erp"})

    assert list(connector.fetch(None)) == []
    assert "config.folder" in config_error({"folder": str(tmp_path / "var")})


@pytest.mark.parametrize("pattern", ["../*.csv", "/etc/*", "sub/*.csv", "..", "*/../../*"])
def test_a_pattern_is_a_file_name_pattern_only(drop_root, pattern):
    assert "config.pattern" in config_error({"folder": str(drop_root), "pattern": pattern})


@pytest.mark.parametrize("key", ["done_folder", "failed_folder"])
def test_done_and_failed_folders_stay_inside_the_drop_folder(drop_root, settings, key):
    drop = drop_root / "drop"
    drop.mkdir()
    (drop / "linked").symlink_to(drop_root)
    templates = str(Path(settings.BASE_DIR) / "templates")

    for value in ("../done", str(drop_root / "elsewhere"), templates, "linked", ".", str(drop)):
        errors = config_error({"folder": str(drop), key: value})
        assert f"config.{key}" in errors, value
    FileConnector({"folder": str(drop), key: "archive/2026"})  # a subfolder is fine


def test_a_link_to_a_file_outside_the_drop_folder_is_reported_and_never_read(drop_root):
    secrets = drop_root / "app"
    secrets.mkdir()
    (secrets / ".env").write_text("SECRET_KEY,DATABASE_PASSWORD\ntop-secret-value,hunter2\n")
    drop = drop_root / "drop"
    drop.mkdir()
    (drop / "people.csv").symlink_to("../app/.env")
    (drop / "ok.csv").write_text("email\nok@example.com\n")
    (drop / "alias.csv").symlink_to("ok.csv")  # a link that stays inside is an ordinary file
    connector = FileConnector({"folder": str(drop), "pattern": "*.csv"})

    fetch = connector.fetch(None)
    records = list(fetch)
    connector.acknowledge(fetch)

    report = repr([(record.values, record.error) for record in records])
    assert "top-secret-value" not in report and "hunter2" not in report
    errors = [record.error for record in records if record.error]
    assert errors == ["people.csv: a link that leads outside the drop folder; not read."]
    assert [r.values["email"] for r in records if not r.error] == ["ok@example.com"] * 2
    assert [p.name for p in (drop / "failed").iterdir()] == ["people.csv"]
    assert (secrets / ".env").read_text().startswith("SECRET_KEY")  # untouched, still there


def test_a_file_swapped_for_a_link_out_after_the_check_is_not_opened(drop_root):
    """The connector checks each file, then opens it: what it opens must be inside the drop
    folder however the file changed in between (a link in its place is refused, not followed
    to its target)."""
    secret = drop_root / "app.env"
    secret.write_text("SECRET_KEY\ntop-secret-value\n")
    drop = drop_root / "drop"
    drop.mkdir()
    (drop / "ok.csv").write_text("email\nok@example.com\n")
    (drop / "alias.csv").symlink_to("ok.csv")
    (drop / "people.csv").symlink_to(secret)  # in place of the file that was checked

    with file_connector._open_no_follow(drop / "alias.csv", drop) as inside:
        assert inside.read().startswith(b"email")
    with pytest.raises(OSError):
        file_connector._open_no_follow(drop / "people.csv", drop)


def test_a_done_folder_turned_into_a_link_out_is_not_written_to(drop_root, tmp_path_factory):
    drop = drop_root / "drop"
    drop.mkdir()
    (drop / "a.csv").write_text("email\na@example.com\n")
    connector = FileConnector({"folder": str(drop)})
    fetch = connector.fetch(None)
    list(fetch)
    outside = tmp_path_factory.mktemp("outside")
    (drop / "done").symlink_to(outside)  # swapped in after the run started

    with pytest.raises(ConnectorError, match="inside the drop folder"):
        connector.acknowledge(fetch)
    assert list(outside.iterdir()) == []
    assert (drop / "a.csv").exists()
