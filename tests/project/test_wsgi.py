import subprocess
import sys

from django.conf import settings


def test_the_web_application_freezes_what_it_loaded_so_full_collections_skip_it():
    probe = "import gc, crm_project.wsgi; print(gc.get_freeze_count())"

    completed = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert int(completed.stdout) > 10_000  # Django and the app, not a handful of objects
