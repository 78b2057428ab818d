"""Read the deployment files of docs/deploy the way systemd reads them, so the cluster test
starts each process from its unit's ExecStart line and the environment file, not from a copy.

Only what these units use is understood: `%I`/`%i` and `%%` specifiers, `${VAR}` and `$VAR`
expansion from the unit's environment, and `KEY=value` environment files with comments.
"""

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "docs" / "deploy"
# Where the units expect the code to be installed; the tests substitute this checkout.
INSTALL_DIR = "/opt/crm"


@dataclass(frozen=True)
class Unit:
    path: Path
    service: dict[str, list[str]]  # [Service] key -> every value given, in order

    def value(self, key: str) -> str:
        values = self.service.get(key, [])
        if len(values) != 1:
            raise ValueError(f"{self.path.name}: expected one {key}=, found {len(values)}")
        return values[0]


def read_unit(name: str) -> Unit:
    section, service = None, {}
    for raw in (DEPLOY / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        if section == "Service":
            service.setdefault(key.strip(), []).append(value.strip())
    return Unit(path=DEPLOY / name, service=service)


def read_environment_file(path: Path) -> dict[str, str]:
    """systemd's EnvironmentFile= format: KEY=value, optional quotes, # comments."""
    environment = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, separator, value = line.partition("=")
        if not separator:
            raise ValueError(f"{path.name}: not KEY=value: {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        environment[key.strip()] = value
    return environment


def exec_start(
    unit: Unit, environment: dict[str, str], *, instance: str = "", root: Path = ROOT
) -> list[str]:
    """The unit's ExecStart as an argument list, with the instance name, the environment and
    this checkout (for /opt/crm) substituted as systemd and the install would."""
    line = unit.value("ExecStart").replace("%%", "\0")
    line = line.replace("%I", instance).replace("%i", instance).replace("\0", "%")
    line = line.replace(INSTALL_DIR, str(root))

    def expand(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name not in environment:
            raise KeyError(f"{unit.path.name}: ExecStart uses ${name}, which is not set")
        return environment[name]

    return [re.sub(r"\$\{(\w+)\}|\$(\w+)", expand, word) for word in shlex.split(line)]
