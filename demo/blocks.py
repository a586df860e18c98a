"""The demo's blocks of clients, in order: built in this process or by worker processes ahead of
need, and prepared for the database in a thread while the database writes the block before."""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor

import django

from demo.clients import Generator, Setup
from demo.rows import Bases, Batch, Tally

BLOCK_CLIENTS = 10_000  # clients generated (and seeded) together


def default_workers() -> int:
    """Generator processes worth starting: none on two cores, where one Python thread and the
    database already keep both busy and the processes' pickling would only add work."""
    cores = os.cpu_count() or 1
    return 0 if cores <= 2 else min(4, cores - 2)


_worker_generators: dict[Setup, Generator] = {}


def _worker_block(setup: Setup, number: int, start: int, count: int) -> Batch:
    """One block, in a worker process (which keeps its generator, with its Faker pools, between blocks)."""
    if setup not in _worker_generators:
        _worker_generators[setup] = Generator(setup)
    return _worker_generators[setup].block(number, start, count)


def generated_blocks(setup: Setup, total: int, workers: int, block_clients: int) -> Iterator[Batch]:
    """The blocks in order: built here, or by `workers` processes ahead of need (a few at a time)."""
    spans = [(number, start, min(block_clients, total - start))
             for number, start in enumerate(range(0, total, block_clients))]
    if workers < 1 or len(spans) <= 1:
        generator = Generator(setup)
        for span in spans:
            yield generator.block(*span)
        return
    # "spawn": fresh interpreters, which share nothing with this process's database connection;
    # django.setup() runs in each before the first task (and with it this module) is unpickled.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=django.setup)
    try:
        waiting: deque[Future] = deque()
        upcoming = iter(spans)
        for span in upcoming:
            waiting.append(pool.submit(_worker_block, setup, *span))
            if len(waiting) > workers:
                break
        while waiting:
            batch = waiting.popleft().result()
            span = next(upcoming, None)
            if span is not None:
                waiting.append(pool.submit(_worker_block, setup, *span))
            yield batch
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def prepared_blocks(blocks: Iterator[Batch], writer, bases: Bases) -> Iterator[tuple[Tally, object]]:
    """Prepares block n+1 (generation, ids, COPY text) in a thread while the caller sends block n.

    The thread runs pure Python: the connection, and the transaction, stay in the caller's thread,
    and the database works on one block while Python computes the next.
    """
    handoff: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def put(item) -> None:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def produce() -> None:
        try:
            for batch in blocks:
                tally = Tally(len(batch.clients), len(batch.purchases), len(batch.lines), len(batch.interactions),
                              len(batch.followups), len(batch.contracts))
                prepared = writer.prepare(batch, bases)
                bases.advance(batch)
                put((tally, prepared))
                if stop.is_set():
                    return
            put(None)
        except BaseException as exc:  # handed over to the caller's thread, which raises it
            put(exc)
        finally:
            blocks.close()  # stops worker processes, if any

    thread = threading.Thread(target=produce, name="seed-demo-blocks", daemon=True)
    thread.start()
    try:
        while (item := handoff.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()
