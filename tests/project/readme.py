"""README.md read as data: its fenced examples, its configuration table, and the environment
variables the code reads, for the tests that keep the README true."""

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.workers import BASE_DIR

README = BASE_DIR / "README.md"
# A block right after this comment is not run by tests/project/test_readme_examples.py.
NOT_RUN = re.compile(r"<!--\s*readme-example:\s*not run\s*\((?P<reason>[^)]+)\)\s*-->")
_FENCE = re.compile(r"^```(?P<language>[\w-]*)\s*$")
# "# → TEXT" (on its own line or after a command): the output shows TEXT; "…" skips any text.
_SHOWN = re.compile(r"#\s*→\s*(?P<text>.+?)\s*$")
SHELL = ("sh", "bash", "shell", "console")
PYTHON = ("python", "py")

# Where the code reads its environment: the application, its scripts and make's variables.
CODE_FOLDERS = ("crm_project", "customers", "integrations", "scripts")
CODE_FILES = ("gunicorn.conf.py", "manage.py")
_ENV_READERS = {"env_str", "env_int", "env_bool", "env_list", "env_groups"}


@dataclass
class Example:
    language: str
    code: str
    line: int  # of the opening fence, for messages
    not_run: str | None = None  # the reason given by the marker
    shown: list[str] = field(default_factory=list)  # what the README says it prints

    @property
    def label(self) -> str:
        return f"README.md:{self.line} ({self.language})"


def examples(text: str | None = None) -> list[Example]:
    lines = (README.read_text(encoding="utf-8") if text is None else text).splitlines()
    found, index = [], 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        start, body = index, []
        index += 1
        while index < len(lines) and lines[index].rstrip() != "```":
            body.append(lines[index])
            index += 1
        index += 1
        previous = next((line for line in reversed(lines[:start]) if line.strip()), "")
        marker = NOT_RUN.search(previous)
        found.append(
            Example(
                language=opening["language"],
                code="\n".join(body) + "\n",
                line=start + 1,
                not_run=marker["reason"] if marker else None,
                shown=[match["text"] for line in body if (match := _SHOWN.search(line))],
            )
        )
    return found


def shows(output: str, expected: str) -> bool:
    """Does `output` show `expected`, where "…" in it stands for any text?"""
    position = 0
    for piece in (part.strip() for part in expected.split("…")):
        if not piece:
            continue
        position = output.find(piece, position)
        if position < 0:
            return False
        position += len(piece)
    return True


def configuration_table() -> dict[str, str]:
    """Each variable of the README's configuration table, with the text of its default."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3 or cells[0] in ("variable", "---"):
            continue
        names = re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[0])
        defaults = re.findall(r"`[^`]*`", cells[1])
        # "`HOST`, `PORT`" with "`127.0.0.1`, `8000`": each name its own default
        paired = len(names) > 1 and len(defaults) == len(names)
        for position, name in enumerate(names):
            rows[name] = defaults[position] if paired else cells[1]
    return rows


@dataclass
class EnvRead:
    name: str
    where: str
    default: object = None  # a literal default, or None when there is none or it is computed
    has_literal_default: bool = False


def environment_reads() -> dict[str, EnvRead]:
    """Every environment variable the code reads, by name, with its default where the code
    gives it as a literal (`env_int("X", 5)`, `env_str("X") or "y"`, `os.environ.get("X")
    or CONSTANT`, make's `X ?= y`)."""
    reads: dict[str, EnvRead] = {}
    for path in _code_files():
        for read in _python_reads(path):
            reads.setdefault(read.name, read)
    for read in _makefile_reads(BASE_DIR / "Makefile"):
        reads.setdefault(read.name, read)
    return reads


def computed_reads() -> list[str]:
    """Reads of a variable whose name the code computes, as "file: call" (`env_str(name)`):
    `environment_reads` cannot see which variable they read. The typed readers themselves
    (crm_project/env.py) are left out."""
    found = []
    for path in _code_files():
        where = str(path.relative_to(BASE_DIR))
        if where == "crm_project/env.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _is_env_reader(node.func) and node.args:
                first = node.args[0]
                if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                    found.append(f"{where}: {ast.unparse(node)}")
    return found


def _code_files() -> list[Path]:
    files = [BASE_DIR / name for name in CODE_FILES]
    for folder in CODE_FOLDERS:
        files += [
            path
            for path in sorted((BASE_DIR / folder).rglob("*.py"))
            if "migrations" not in path.parts
        ]
    return files


def _is_env_reader(function: ast.expr) -> bool:
    if isinstance(function, ast.Name):
        return function.id in _ENV_READERS
    if isinstance(function, ast.Attribute):
        return (function.attr == "get" and _is_os_environ(function.value)) or (
            function.attr == "getenv" and isinstance(function.value, ast.Name)
        )
    return False


def _python_reads(path: Path) -> list[EnvRead]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    where = str(path.relative_to(BASE_DIR))
    found: list[EnvRead] = []
    fallbacks: dict[int, ast.expr] = {}  # id(call) -> the `or` operand after it
    for node in ast.walk(tree):
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            for left, right in zip(node.values, node.values[1:], strict=False):
                fallbacks[id(left)] = right
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call | ast.Subscript):
            continue
        name, default = _env_read(node)
        if name is None:
            continue
        read = EnvRead(name=name, where=where)
        candidate = fallbacks.get(id(node), default)
        value = _literal(candidate, constants)
        if value is not _COMPUTED and value is not None and value != []:
            read.default, read.has_literal_default = value, True
        found.append(read)
    return found


_COMPUTED = object()


def _env_read(node: ast.Call | ast.Subscript) -> tuple[str | None, ast.expr | None]:
    if isinstance(node, ast.Subscript):  # os.environ["X"]
        if _is_os_environ(node.value) and isinstance(node.slice, ast.Constant):
            return node.slice.value, None
        return None, None
    first = node.args[0] if node.args else None
    if not _is_env_reader(node.func) or not (
        isinstance(first, ast.Constant) and isinstance(first.value, str)
    ):
        return None, None
    default = node.args[1] if len(node.args) > 1 else None
    for keyword in node.keywords:
        if keyword.arg == "default":
            default = keyword.value
    return first.value, default


def _is_os_environ(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def _literal(node: ast.expr | None, constants: dict[str, object]) -> object:
    if node is None:
        return None
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        return _COMPUTED


def _makefile_reads(path: Path) -> list[EnvRead]:
    """`NAME ?= value`: make takes NAME from the environment when it is set there."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)\s*\?=\s*(.*?)\s*$", line)
        if match:
            found.append(EnvRead(match[1], "Makefile", default=match[2], has_literal_default=True))
    return found


def as_written_in_readme(value: object) -> str:
    """How the README's default column writes a literal default."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    return str(value)
