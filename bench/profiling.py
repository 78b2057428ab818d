"""Where the workers' time goes: py-spy samples of every gunicorn worker, summarised by frame.

py-spy is not a project dependency: ``.venv/bin/pip install py-spy`` before ``--profile``.
"""

import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from harness import PYTHON, ROOT

_FRAME = re.compile(r"^(?P<function>.+?) \((?P<file>[^()]*?)(?::\d+)?\)$")
_NOT_INTERESTING = ("gunicorn/", "<module>", "process ", "django/core/handlers")


class PySpy:
    """Sample every gunicorn worker into collapsed stacks until the block ends."""

    def __init__(self, server, out: Path) -> None:
        self.server, self.out = server, out
        self.binary = shutil.which("py-spy") or str(Path(PYTHON).with_name("py-spy"))

    def __enter__(self) -> "PySpy":
        if not Path(self.binary).exists():
            raise RuntimeError("--profile needs py-spy: .venv/bin/pip install py-spy")
        command = [self.binary, "record", "--pid", str(self.server.process.pid), "--subprocesses"]
        command += ["--rate", "200", "--nonblocking", "--format", "raw", "--output", str(self.out)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(1.5)  # attach to the master and its workers before the load starts
        return self

    def __exit__(self, *exc_info) -> None:
        self.process.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def print_profile(title: str, collapsed: Path, top: int = 25) -> None:
    """Frames by inclusive share of the samples taken while a worker handled a request."""
    inclusive: dict[str, int] = {}
    leaf: dict[str, int] = {}
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_short_frame(frame) for frame in stack.split(";")]
        if not any("handle_request" in frame for frame in frames):
            continue  # the master, and workers waiting for a connection
        total += int(count)
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + int(count)
        leaf[frames[-1]] = leaf.get(frames[-1], 0) + int(count)
    if not total:
        print(f"\nprofile {title}: no samples in {collapsed}")
        return
    print(f"\nprofile {title}: {total} samples while handling requests ({collapsed})")
    print("  inclusive  frame")
    ranked = sorted(inclusive.items(), key=lambda item: -item[1])
    shown = [(f, n) for f, n in ranked if not f.startswith(_NOT_INTERESTING) and n < total]
    for frame, count in shown[:top]:
        print(f"  {100 * count / total:8.1f}%  {frame}")
    print("  self       frame")
    for frame, count in sorted(leaf.items(), key=lambda item: -item[1])[:12]:
        print(f"  {100 * count / total:8.1f}%  {frame}")


def _short_frame(frame: str) -> str:
    """'decrypt (/…/site-packages/cryptography/fernet.py:85)' -> 'cryptography/fernet.py decrypt'"""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match.group("file")
    for marker in ("site-packages/", f"{ROOT}/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{path} {match.group('function')}"
