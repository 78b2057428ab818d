"""A contact export as pieces of text, its chunks encoded on both cores when it is large.

The database is read here, in the calling thread (Django connections are per thread), a chunk
at a time; decrypting and encoding a chunk is pure work on plain data, so from the second
chunk on it goes to forked worker processes. At most ``_IN_FLIGHT`` chunks per worker wait
for encoding and the results come back in order, so memory stays flat and the file is the one
a single process would write.
"""

import gc
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterator
from importlib import import_module
from multiprocessing.util import Finalize

from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet

from customers.export_encoders import ContactEncoder
from customers.export_rows import (
    ChunkRead,
    contact_chunk_reads,
    contact_raw_chunks,
    read_raw_chunk,
)
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
    as_bytes: bool = False,
) -> Iterator[tuple[str, int]] | Iterator[tuple[bytes, int]]:
    """The document as (text, rows in it): its start, one piece per chunk of rows, its end.
    A small export (one chunk) never starts a process. With `as_bytes`, the pieces are UTF-8
    bytes, encoded where they are written: a worker's then come as they are (decoding and
    encoding them again here was a third of this process's work)."""
    processes = export_processes() if processes is None else processes
    encode = str.encode if as_bytes else str
    chunks = contact_raw_chunks(queryset, chunk_size=chunk_size)
    yield encode(encoder.start()), 0
    first = next(chunks, None)
    if first is not None:
        yield encode(encoder.encode(first, first=True)), len(first)
        if len(first) == chunk_size:  # there may be more: worth the workers
            if processes > 1 and _may_fork() and _workers_may_read(queryset):
                chunks.close()
                reads = contact_chunk_reads(queryset, after=first[-1][0], chunk_size=chunk_size)
                yield from _read_in_workers(reads, encoder, processes, queryset.db, as_bytes)
            elif processes > 1 and _may_fork():
                yield from _in_workers(chunks, encoder, processes, as_bytes)
            else:
                for chunk in chunks:
                    yield encode(encoder.encode(chunk, first=False)), len(chunk)
    yield encode(encoder.end()), 0


def _may_fork() -> bool:
    """Not inside a daemonic process, such as a Celery prefork worker (billiard marks it so
    for multiprocessing too): it may not have children, and its siblings use the cores."""
    current = multiprocessing.current_process()
    return "fork" in multiprocessing.get_all_start_methods() and not current.daemon


def _workers_may_read(queryset: QuerySet) -> bool:
    """Whether worker processes, each on its own connection, see what this one sees: not
    inside a transaction (its uncommitted rows would be invisible to them) nor an in-memory
    SQLite database (theirs would be empty)."""
    connection = connections[queryset.db]
    if connection.in_atomic_block:
        return False
    return not (connection.vendor == "sqlite" and connection.is_in_memory_db())


_worker_encoder: ContactEncoder | None = None
_worker_encode = str
_worker_connection: BaseDatabaseWrapper | None = None


def _start_reader(encoder: ContactEncoder, as_bytes: bool, settings_dict: dict, alias: str) -> None:
    """A worker that reads its chunks itself, on a connection of its own. The connection
    inherited through fork is the parent's (one server session, one socket): it is left
    untouched, as closing it here would end the parent's session too."""
    global _worker_connection
    _start_worker(encoder, as_bytes)
    backend = import_module(f"{settings_dict['ENGINE']}.base")
    _worker_connection = backend.DatabaseWrapper(settings_dict, alias)
    # Closed when the pool lets the worker go (os._exit skips garbage collection).
    Finalize(_worker_connection, _worker_connection.close, exitpriority=10)


def _read_and_encode_in_worker(read: ChunkRead) -> tuple[str, int]:
    chunk = read_raw_chunk(_worker_connection, read)
    text = _worker_encode(_worker_encoder.encode(chunk, first=False))
    gc.collect(1)
    return text, len(chunk)


def _start_worker(encoder: ContactEncoder, as_bytes: bool) -> None:
    global _worker_encoder, _worker_encode
    _worker_encoder = encoder
    _worker_encode = str.encode if as_bytes else str
    # A chunk is tens of thousands of fresh tuples and strings, freed all at once when it is
    # encoded: the cyclic collector would walk them (and everything inherited) many times a
    # chunk, a fifth of the work. Off, and run on the young objects once a chunk instead.
    gc.freeze()
    gc.disable()
    # A forked child inherits its parent's signal handlers: under gunicorn, SIGTERM would only
    # mark the *worker* as stopping, and Pool.terminate() would wait for this child forever.
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1):
        signal.signal(number, signal.SIG_DFL)


def _encode_in_worker(chunk: list[tuple]) -> str | bytes:
    text = _worker_encode(_worker_encoder.encode(chunk, first=False))
    gc.collect(1)
    return text


def _read_in_workers(
    reads: Iterator[ChunkRead],
    encoder: ContactEncoder,
    processes: int,
    alias: str,
    as_bytes: bool,
) -> Iterator[tuple[str | bytes, int]]:
    """Each worker reads, decrypts and encodes whole chunks: only two short queries per chunk
    go to it and its text comes back, so this process is left with little more than writing
    (pickling rows to the workers cost as much as encoding them)."""
    settings_dict = connections[alias].settings_dict
    context = multiprocessing.get_context("fork")
    pool = context.Pool(
        processes, initializer=_start_reader, initargs=(encoder, as_bytes, settings_dict, alias)
    )
    tasks = ((pool.apply_async(_read_and_encode_in_worker, (read,)), None) for read in reads)
    yield from _in_order(pool, tasks, processes)


def _in_workers(
    chunks: Iterator[list[tuple]], encoder: ContactEncoder, processes: int, as_bytes: bool
):
    # fork: the children inherit the loaded code and settings; they never touch the database
    # connection they inherit (only plain rows go to them) and leave through os._exit.
    context = multiprocessing.get_context("fork")
    pool = context.Pool(processes, initializer=_start_worker, initargs=(encoder, as_bytes))
    tasks = ((pool.apply_async(_encode_in_worker, (chunk,)), len(chunk)) for chunk in chunks)
    yield from _in_order(pool, tasks, processes)


def _in_order(pool, tasks: Iterator[tuple], processes: int) -> Iterator[tuple[str | bytes, int]]:
    """The tasks' (text, rows), in order, at most ``_IN_FLIGHT`` per worker queued; a task
    whose row count is None returns (text, rows) itself."""
    pending: deque = deque()

    def done() -> tuple[str | bytes, int]:
        result, rows = pending.popleft()
        return result.get() if rows is None else (result.get(), rows)

    try:
        for task in tasks:
            pending.append(task)
            if len(pending) >= processes * _IN_FLIGHT:
                yield done()
        while pending:
            yield done()
    except BaseException:  # an error, or the client went away mid-export (GeneratorExit)
        pool.terminate()
        pool.join()
        raise
    pool.close()
    pool.join()
