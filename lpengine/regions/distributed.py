"""The region search on a Dask cluster (``enumerate_regions(..., client=...)``).

The caller (the driver) keeps the breadth-first frontier and the set of
patterns seen, exactly as the serial search does; the region work (rows,
certificate, facets, neighbours) runs as Dask tasks, one batch of pending
regions per task, on any number of workers.  Each task returns everything its
batch produced (the regions packed as arrays, the neighbours as packed
patterns), the driver merges it while the search runs, and every region is
processed exactly once, so the count, the patterns and the adjacency graph
equal the serial search's.  Witnesses, LP counts and the order of the regions
may differ: the interior point of a region depends on the facet it was first
reached through, which depends on the arrival order.

The network, domain and tolerances ride along with every task (a few KB, so
no scattered data can be lost with a worker); each worker process builds one
:class:`~.processor.RegionProcessor` per search from them and reuses it for
every batch (its HiGHS instances stay warm).  Messages are small: a batch is two arrays
(``int8`` patterns and float hints), a reply a few stacked arrays.

A worker lost mid-run costs only time: Dask re-runs its unfinished tasks on
the workers left (the tasks are pure functions of their batch).  With a
``checkpoint`` the driver writes its state every few seconds, the batches in
flight counting as pending, so even the loss of the driver costs at most one
interval.  Scaling beyond tens of workers would move the seen set off the
driver (owner = hash of the pattern, one shard per worker); see the README's
distributed section for that plan.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..network import ReLUNetwork
from ..tolerances import Tolerances
from .budget import Budget
from .checkpoint import Checkpointer, SearchSnapshot
from .domain import Domain
from .outcome import PendingRegion
from .parallel import BatchReply, PackedItems, WorkerFailed, merge_reply, pack_items, process_batch
from .pattern import ActivationPattern
from .processor import RegionProcessor
from .result import RegionCollector
from .search import SearchOut, begin, enqueue_new, record, snapshot

__all__ = ["distributed_search", "run_batch"]

logger = logging.getLogger(__name__)

# Batches in flight per worker (one running, one waiting, so a worker never idles on the round trip).
_IN_FLIGHT = 2
# Largest and smallest batch of pending regions per task.
_MAX_BATCH = 64
_MIN_BATCH = 4
# Regions the driver processes itself between two looks at the finished tasks.
_DRIVER_CHUNK = 4

# Seconds between two questions to the scheduler about the number of workers.
_LOOK_EVERY = 2.0

# One RegionProcessor per worker process and search (keyed by the search's token); the newest only.
_PROCESSORS: dict[str, tuple[RegionProcessor, set[bytes]]] = {}


def run_batch(token: str, setup: tuple[Any, ...], batch: PackedItems) -> BatchReply:
    """A Dask task: process one batch on a worker (the worker's processor is built once per search)."""
    entry = _PROCESSORS.get(token)
    if entry is None:
        _PROCESSORS.clear()
        net, domain, tol, method, compute_bounded, backend = setup
        entry = (RegionProcessor(net, domain, tol, method, compute_bounded, backend), set())
        _PROCESSORS[token] = entry
    proc, reported = entry
    reply = process_batch(proc, batch, reported, proc.domain.dim)
    if isinstance(reply, WorkerFailed):
        raise reply.error
    return reply


def distributed_search(
    net: ReLUNetwork,
    domain: Domain,
    tol: Tolerances,
    *,
    client: Any,
    method: str,
    start: tuple[NDArray[np.float64], ActivationPattern],
    budget: Budget,
    compute_bounded: bool,
    backend: Any = "highs",
    resume: SearchSnapshot | None = None,
    checkpointer: Checkpointer | None = None,
    collector: RegionCollector | None = None,
) -> SearchOut:
    """Breadth-first search with the region work on the Dask cluster of ``client``."""
    from distributed import as_completed

    d = domain.dim
    out = SearchOut(collector or RegionCollector(net.hidden_widths, domain), method=method)
    proc = RegionProcessor(net, domain, tol, method, compute_bounded, backend)
    out.counters = proc.counters
    out.stats = proc.cert.stats
    queue, seen = begin(out, start, resume, checkpointer)
    n_regions = len(out.collector.regions)
    token = uuid.uuid4().hex
    # The inputs ride along with every task (a few KB): no scattered data that a lost worker could take
    # with it; each worker builds its processor from them once per search (keyed by ``token``).
    setup = (net, domain, tol, method, compute_bounded, backend)
    pending = as_completed()
    flight: dict[Any, list[PendingRegion]] = {}
    workers_seen = 1
    next_look = 0.0

    def take(reply: BatchReply) -> int:
        return merge_reply(out, reply, seen, queue, d)

    def save() -> None:
        assert checkpointer is not None
        in_flight = [it for batch in flight.values() for it in batch]
        checkpointer.write(snapshot(out, [*in_flight, *queue], seen, budget.elapsed()), d)

    stopping = False
    try:
        while True:
            if checkpointer is not None and checkpointer.due():
                save()
            if not stopping:
                reason = budget.stop_reason(n_regions, len(queue), out.counters.solves)
                if reason is not None:
                    stopping, out.complete, out.message = True, False, reason
            if not stopping:
                now = time.perf_counter()
                if now >= next_look:  # the cluster may grow or shrink; ask the scheduler now and then
                    workers_seen = max(1, len(client.scheduler_info(n_workers=-1)["workers"]))
                    next_look = now + _LOOK_EVERY
                n_workers = workers_seen
                budget.workers = 1 + n_workers
                while len(flight) < _IN_FLIGHT * n_workers and len(queue) >= _MIN_BATCH:
                    size = max(_MIN_BATCH, min(_MAX_BATCH, len(queue) // (_IN_FLIGHT * n_workers)))
                    batch = [queue.popleft() for _ in range(min(size, len(queue)))]
                    fut = client.submit(run_batch, token, setup, pack_items(batch, d), pure=False)
                    flight[fut] = batch
                    pending.add(fut)
                # The driver works too, between two looks at the finished tasks (no busy waiting).
                if queue:
                    for _ in range(min(_DRIVER_CHUNK, len(queue))):
                        done = proc.process(queue.popleft())
                        n_regions += record(out, done.outcome)
                        enqueue_new(done.neighbors, seen, queue)
            if not flight:
                if stopping or not queue:
                    break
                continue
            ready = pending.next_batch(block=not queue or stopping)
            for fut in ready:
                batch = flight.pop(fut)
                try:
                    reply = fut.result()
                except BaseException:
                    queue.extendleft(reversed(batch))  # still pending (a checkpoint keeps it)
                    raise
                n_regions += take(reply)
    finally:
        for fut in list(flight):
            fut.cancel()
        if checkpointer is not None:
            save()
    if queue and out.complete:
        out.complete, out.message = False, "stopped with regions still queued"
    if budget.max_regions is not None:
        out.collector.truncate(budget.max_regions)
    out.processes = 1 + workers_seen
    return out
