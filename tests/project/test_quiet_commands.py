"""`manage.py` commands print what they are asked for, not the start-up chatter of libraries."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.slow  # starts manage.py in a process of its own


def test_a_management_command_prints_nothing_from_spyne_or_axes_on_start(tmp_path):
    env = {**os.environ, "CRM_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)

    completed = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "Initializing application" not in output
    assert "AXES" not in output
    assert output.strip() == "System check identified no issues (0 silenced)."
