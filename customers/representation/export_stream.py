"""A contact export as pieces of text, its chunks encoded on both cores when it is large.

The first chunk is read and encoded here. From the second chunk on, forked worker processes
do the work: outside a transaction each reads its chunks itself on its own connection (this
process only finds where each chunk ends), else the rows are read here (Django connections are
per thread) and sent to them. Few chunks per worker are in flight and the texts come back in
order, so memory stays flat and the file is the one a single process would write.
"""

import gc
import multiprocessing
import os
import signal
from collections.abc import Iterator
from importlib import import_module
from multiprocessing.util import Finalize

from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet

from customers.models import Contact
from customers.representation.export_encoders import ContactEncoder
from customers.representation.export_rows import (
    ChunkRead,
    contact_chunk_reads,
    contact_raw_chunks,
    read_raw_chunk,
)

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


def _start_worker(encoder: ContactEncoder, as_bytes: bool) -> None:
    global _worker_encoder, _worker_encode
    _worker_encoder = encoder
    _worker_encode = str.encode if as_bytes else str
    # A chunk is tens of thousands of fresh tuples and strings, freed all at once when it is
    # encoded: the cyclic collector would walk them (and everything inherited) many times a
    # chunk, a fifth of the work. Off, and run on the young objects once a chunk instead.
    gc.freeze()
    gc.disable()
    # A forked child inherits its parent's signal handlers: under gunicorn, SIGTERM or SIGINT
    # would only mark the *worker* as stopping, and this child would not stop with it.
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1):
        signal.signal(number, signal.SIG_DFL)


def _start_reader(encoder: ContactEncoder, as_bytes: bool, settings_dict: dict, alias: str) -> None:
    """A worker that reads its chunks itself, on a connection of its own. The connection
    inherited through fork is the parent's (one server session, one socket): it is left
    untouched, as closing it here would end the parent's session too."""
    global _worker_connection
    _start_worker(encoder, as_bytes)
    backend = import_module(f"{settings_dict['ENGINE']}.base")
    _worker_connection = backend.DatabaseWrapper(settings_dict, alias)
    # Closed when the worker returns (os._exit skips garbage collection).
    Finalize(_worker_connection, _worker_connection.close, exitpriority=10)


def _encode_in_worker(chunk: list[tuple]) -> tuple[str | bytes, int]:
    text = _worker_encode(_worker_encoder.encode(chunk, first=False))
    gc.collect(1)
    return text, len(chunk)


def _read_and_encode_in_worker(read: ChunkRead) -> tuple[str | bytes, int]:
    return _encode_in_worker(read_raw_chunk(_worker_connection, read))


def _read_in_workers(
    reads: Iterator[ChunkRead],
    encoder: ContactEncoder,
    processes: int,
    alias: str,
    as_bytes: bool,
) -> Iterator[tuple[str | bytes, int]]:
    """Each worker reads, decrypts and encodes whole chunks: only two short queries per chunk
    go to it and its text comes back, so this process is left with little more than writing
    (pickling rows to the workers cost as much as encoding them). A read is a few kB, so
    several may wait in a worker's pipe."""
    settings_dict = connections[alias].settings_dict
    start = (_start_reader, (encoder, as_bytes, settings_dict, alias))
    work = (_read_and_encode_in_worker, reads)
    yield from _in_order(start, work, processes, _IN_FLIGHT)


def _in_workers(
    chunks: Iterator[list[tuple]], encoder: ContactEncoder, processes: int, as_bytes: bool
) -> Iterator[tuple[str | bytes, int]]:
    """Chunks of rows read here, encoded in the workers, which never touch the database
    connection they inherit. A chunk of rows may be larger than a pipe holds: one at a time
    per worker, so that no worker is ever sending its text while this process is blocked
    sending it rows."""
    start = (_start_worker, (encoder, as_bytes))
    yield from _in_order(start, (_encode_in_worker, chunks), processes, 1)


def _in_order(
    start: tuple, work: tuple, processes: int, in_flight: int
) -> Iterator[tuple[str | bytes, int]]:
    """``work`` is (function, tasks): each task's (text, rows) from forked workers, in order.

    Not a ``multiprocessing.Pool``: one pipe per worker, tasks dealt round-robin and results
    read back in the same order. No handler threads (a tenth of the export's CPU went to
    them), and no queue lock shared with the workers, which ``Pool.terminate`` could leave
    held by a worker it killed mid-write, hanging the export when a client went away."""
    function, tasks = work
    context = multiprocessing.get_context("fork")
    workers = []
    try:
        for _ in range(processes):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_serve, args=(theirs, start, function), daemon=True
            )  # daemon: never outlives this process
            process.start()
            theirs.close()
            workers.append((process, ours))
        sent = received = 0
        for task in tasks:
            if sent - received >= processes * in_flight:
                yield _result(workers[received % processes][1])
                received += 1
            workers[sent % processes][1].send(task)
            sent += 1
        while received < sent:
            yield _result(workers[received % processes][1])
            received += 1
        for _process, connection in workers:
            connection.send(None)
        for process, _connection in workers:
            process.join()
    finally:  # an error, or the client went away mid-export (GeneratorExit): stop them now
        for process, connection in workers:
            if process.exitcode is None:
                # SIGKILL: they share no lock with us, and one just forked may not have reset
                # the SIGTERM handler it inherited yet.
                process.kill()
                process.join()
            connection.close()


def _serve(connection, start: tuple, function) -> None:
    """A worker: tasks in, (text, rows) or the error out, until told to stop."""
    initializer, initargs = start
    try:
        initializer(*initargs)
    except Exception as error:  # e.g. no connection: the answer to every task, until stopped
        failure: Exception | None = error
    else:
        failure = None
    while (task := connection.recv()) is not None:
        if failure is not None:
            connection.send((False, failure))
            continue
        try:
            connection.send((True, function(task)))
        except Exception as error:  # handed to the parent, which raises it
            connection.send((False, error))


def _result(connection) -> tuple[str | bytes, int]:
    ok, result = connection.recv()
    if not ok:
        raise result
    return result
