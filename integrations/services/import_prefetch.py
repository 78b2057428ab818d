"""A job's next chunk read, parsed and cleaned in a forked child while this process writes.

Writing a chunk (matching, the database's own work, committing) and preparing the next one
(parsing the file, checking every value, blind indexes) need nothing from each other, so on a
machine with a second core they run side by side: the child walks the file and
sends each prepared chunk down a pipe; this process takes them in order. The pipe holds at most
a chunk or so, so the child stays just ahead and memory stays flat.

The child is a plain ``os.fork()`` (allowed in a Celery prefork worker, where multiprocessing is
not): it inherits the loaded code, settings and custom-field definitions, never touches the
database (the inherited connections are forgotten, not closed: they are the parent's), and
leaves with ``os._exit`` so nothing of the parent's is flushed or closed twice. An exception in
the child is raised here, where the chunk would have been; if this side stops early (a cancel,
a failed chunk) the child is killed.
"""

import contextlib
import os
import pickle
import signal
import traceback
from collections.abc import Callable, Iterator
from typing import IO, Any

from django.db import connections

_HEADER = 8


def prepared_in_child(produce: Callable[[], Iterator[Any]]) -> Iterator[Any]:
    """What `produce()` yields, made in a forked child, in order."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        _serve(produce, read_end, write_end)  # never returns
    os.close(write_end)
    finished = False
    try:
        with os.fdopen(read_end, "rb") as stream:
            while True:
                kind, payload = _read(stream)
                if kind == "item":
                    yield payload
                elif kind == "error":
                    raise payload
                else:
                    finished = True
                    return
    finally:
        if not finished:
            _kill(pid)
        os.waitpid(pid, 0)


def _serve(produce: Callable[[], Iterator[Any]], read_end: int, write_end: int) -> None:
    status = 0
    try:
        os.close(read_end)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's (gunicorn, Celery)
        _forget_connections()
        with os.fdopen(write_end, "wb", buffering=1 << 20) as stream:
            try:
                for item in produce():
                    _write(stream, "item", item)
                _write(stream, "end", None)
            except BrokenPipeError:
                raise
            except BaseException as error:  # noqa: BLE001 - raised again in the parent
                _write(stream, "error", _picklable(error))
    except BaseException:  # noqa: BLE001 - the parent stopped reading (or is gone)
        status = 1
    finally:
        os._exit(status)


def _forget_connections() -> None:
    """The parent's database connections are its own: never used or closed here."""
    for connection in connections.all(initialized_only=True):
        connection.connection = None


def _picklable(error: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # noqa: BLE001 - anything that cannot travel travels as text
        return RuntimeError("".join(traceback.format_exception(error)))
    return error


def _write(stream: IO[bytes], kind: str, payload: Any) -> None:
    data = pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(_HEADER, "big"))
    stream.write(data)
    stream.flush()


def _read(stream: IO[bytes]) -> tuple[str, Any]:
    header = stream.read(_HEADER)
    if len(header) < _HEADER:
        raise RuntimeError("The import's preparing process ended unexpectedly.")
    return pickle.loads(stream.read(int.from_bytes(header, "big")))


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
