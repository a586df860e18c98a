"""Times the full lifecycle recompute split into id-range chunks run by Celery worker processes
over Redis, with one and then two worker processes (run through `make bench`, which sets
REDIS_URL). The launcher computes the global cut points once (as the nightly run does), then the
chunks run as a group; the time is from the launch to the last chunk's result.
"""

import datetime as dt
import os
import subprocess
import sys
import time
import uuid

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portfolio.settings")
django.setup()

from celery import group  # noqa: E402
from django.conf import settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from portfolio.celery import app  # noqa: E402
from segmentation.engine import global_cuts, id_chunks  # noqa: E402
from segmentation.tasks import CHUNK_SIZE, recompute_chunk  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def worker_start(queue: str, processes: int) -> subprocess.Popen:
    env = {**os.environ, "CELERY_QUEUE": queue, "LIFECYCLE_WORKERS": "1"}
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "celery", "-A", "portfolio", "worker", "-Q", queue, "-c", str(processes),
         "--pool", "prefork", "--loglevel", "WARNING", "-n", f"{queue}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )


def ready(queue: str, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=1):
            return True
    return False


def main() -> int:
    if not settings.REDIS_URL:
        print("no REDIS_URL: the chunked run on worker processes is not measured")
        return 0
    as_of = timezone.localdate() + dt.timedelta(days=1)
    started = time.perf_counter()
    cuts = global_cuts(as_of).as_json()
    cuts_seconds = time.perf_counter() - started
    ranges = id_chunks(CHUNK_SIZE)
    print(f"{len(ranges)} chunks of {CHUNK_SIZE:,} ids; global step (cut points) {cuts_seconds:.1f} s, once per run")
    for processes in (1, 2):
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        worker = worker_start(queue, processes)
        try:
            if not ready(queue):
                print(f"{processes} worker process(es): the worker did not answer")
                continue
            started = time.perf_counter()
            result = group(recompute_chunk.si(lo, hi, as_of.isoformat(), cuts) for lo, hi in ranges).apply_async(queue=queue)
            rows = sum(chunk["rows_changed"] for chunk in result.get(timeout=3600, disable_sync_subtasks=False))
            elapsed = time.perf_counter() - started
            print(f"{processes} worker process(es): chunks {elapsed:6.1f} s, with the global step {elapsed + cuts_seconds:6.1f} s"
                  f"  (rows changed {rows:,})")
        finally:
            worker.terminate()
            worker.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
