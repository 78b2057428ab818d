"""A contact export as pieces of text, its chunks encoded on both cores when it is large.

The database is read here, in the calling thread (Django connections are per thread), a chunk
at a time; decrypting and encoding a chunk is pure work on plain data, so from the second
chunk on it goes to forked worker processes. At most ``_IN_FLIGHT`` chunks per worker wait
for encoding and the results come back in order, so memory stays flat and the file is the one
a single process would write.
"""

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterator

from django.conf import settings
from django.db.models import QuerySet

from customers.export_encoders import ContactEncoder
from customers.export_rows import contact_raw_chunks
from customers.models import Contact

CHUNK_ROWS = 2000
_IN_FLIGHT = 2  # chunks queued per worker: enough to keep it busy, few enough to stay flat


def export_processes() -> int:
    """Worker processes for a large export: EXPORT_PROCESSES, else one per core (0: none)."""
    configured = getattr(settings, "EXPORT_PROCESSES", None)
    if configured is not None:
        return int(configured)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


def contact_export_text(
    queryset: QuerySet[Contact],
    encoder: ContactEncoder,
    *,
    chunk_size: int = CHUNK_ROWS,
    processes: int | None = None,
) -> Iterator[tuple[str, int]]:
    """The document as (text, rows in it): its start, one piece per chunk of rows, its end.
    A small export (one chunk) never starts a process."""
    processes = export_processes() if processes is None else processes
    chunks = contact_raw_chunks(queryset, chunk_size=chunk_size)
    yield encoder.start(), 0
    first = next(chunks, None)
    if first is not None:
        yield encoder.encode(first, first=True), len(first)
        if len(first) == chunk_size:  # there may be more: worth the workers
            if processes > 1 and _may_fork():
                yield from _in_workers(chunks, encoder, processes)
            else:
                for chunk in chunks:
                    yield encoder.encode(chunk, first=False), len(chunk)
    yield encoder.end(), 0


def _may_fork() -> bool:
    """Not inside a daemonic process, such as a Celery prefork worker (billiard marks it so
    for multiprocessing too): it may not have children, and its siblings use the cores."""
    current = multiprocessing.current_process()
    return "fork" in multiprocessing.get_all_start_methods() and not current.daemon


_worker_encoder: ContactEncoder | None = None


def _start_worker(encoder: ContactEncoder) -> None:
    global _worker_encoder
    _worker_encoder = encoder
    # A forked child inherits its parent's signal handlers: under gunicorn, SIGTERM would only
    # mark the *worker* as stopping, and Pool.terminate() would wait for this child forever.
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1):
        signal.signal(number, signal.SIG_DFL)


def _encode_in_worker(chunk: list[tuple]) -> str:
    return _worker_encoder.encode(chunk, first=False)


def _in_workers(chunks: Iterator[list[tuple]], encoder: ContactEncoder, processes: int):
    # fork: the children inherit the loaded code and settings; they never touch the database
    # connection they inherit (only plain rows go to them) and leave through os._exit.
    context = multiprocessing.get_context("fork")
    pool = context.Pool(processes, initializer=_start_worker, initargs=(encoder,))
    try:
        pending: deque = deque()
        for chunk in chunks:
            pending.append((pool.apply_async(_encode_in_worker, (chunk,)), len(chunk)))
            if len(pending) >= processes * _IN_FLIGHT:
                result, rows = pending.popleft()
                yield result.get(), rows
        while pending:
            result, rows = pending.popleft()
            yield result.get(), rows
    except BaseException:  # an error, or the client went away mid-export (GeneratorExit)
        pool.terminate()
        pool.join()
        raise
    pool.close()
    pool.join()
