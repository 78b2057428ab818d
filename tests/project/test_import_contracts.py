"""The layers stay apart under a bare `pytest` too, not only under `make lint`: the import
contracts in pyproject.toml ([tool.importlinter]: the domain core imports no door, no door
imports another door, the file codecs are pure) hold for the code as it is."""

import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_every_import_contract_is_kept():
    completed = subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--no-logo"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "0 broken" in completed.stdout
