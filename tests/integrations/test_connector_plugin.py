"""A third-party connector plugs in without forking: the example package under examples/ is
installed (into a folder of its own, so the environment is left as it was), found through the
``crm.connectors`` entry-point group, configured and run like a built-in connector."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from customers.models import Company
from integrations.connectors import available_connectors, connector_class, registry
from integrations.services import sync

pytestmark = pytest.mark.slow  # builds and installs a plug-in package in a process of its own

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "crm-connector-weather"


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory):
    target = tmp_path_factory.mktemp("plugins")
    source = tmp_path_factory.mktemp("source") / EXAMPLE.name
    shutil.copytree(EXAMPLE, source)  # the build writes beside the sources: not in the repo
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
        + ["--no-build-isolation", "--disable-pip-version-check", "--no-index"]
        + ["--target", str(target), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    sys.path.insert(0, str(target))
    registry._installed.cache_clear()
    yield target
    sys.path.remove(str(target))
    registry._installed.cache_clear()
    for name in [module for module in sys.modules if module.startswith("crm_connector_weather")]:
        del sys.modules[name]


def test_the_installed_plugin_is_listed_and_loads(installed_example):
    assert available_connectors()["weather_stations"] == (
        "crm_connector_weather.WeatherStationConnector"
    )
    assert connector_class("weather_stations").label == "Weather stations (example plugin)"


@pytest.mark.django_db(transaction=True)
def test_a_connection_through_the_plugin_imports_and_then_fetches_nothing_new(installed_example):
    connection = sync.connection_create(
        name="Weather",
        connector="weather_stations",
        config={"country": "CN", "token": "t0ps3cret"},
        resource="companies",
        mode="upsert",
        match_key="external_id",
    )

    first = sync.sync_run(connection.pk)
    second = sync.sync_run(connection.pk)

    assert (first.status, first.created) == ("succeeded", 2), first.error_message
    assert sorted(Company.objects.values_list("external_id", "country")) == [
        ("wx-ZBAA", "CN"),
        ("wx-ZSPD", "CN"),
    ]
    assert (second.fetched, second.cursor_before) == (0, "5")
    assert "t0ps3cret" not in str(connection.config)


def test_the_plugin_validates_its_own_configuration(installed_example):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        connector_class("weather_stations")({"country": "china", "token": "x"})

    assert "config.country" in error.value.message_dict
