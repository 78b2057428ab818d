"""`integrations.formats` is a pure codec package: it imports neither DRF, nor the REST door,
nor any model (the ORM included), so every door and the core can use it without leaning on
another door. Checked in a fresh interpreter: importing every module of the package must load
none of them, directly or through a dependency."""

import json
import subprocess
import sys

FORBIDDEN = (
    "rest_framework",
    "customers.api",
    "customers.models",
    "integrations.models",
    "django.db",
)

_PROBE = """
import importlib, json, pkgutil, sys
from django.conf import settings
settings.configure()  # settings only: django.setup() would load every app's models
import integrations.formats as formats
for module in pkgutil.iter_modules(formats.__path__):
    importlib.import_module(f"integrations.formats.{module.name}")
print(json.dumps(sorted(sys.modules)))
"""


def _modules_loaded_by_the_formats() -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def test_the_formats_import_no_drf_no_rest_door_and_no_models():
    loaded = _modules_loaded_by_the_formats()

    assert "integrations.formats.xml_elements" in loaded  # the probe did import the package
    assert [name for name in loaded if name.startswith(FORBIDDEN)] == []
