"""Work sharing: the region search spread over several processes (``n_jobs > 1``).

The calling process (the master) keeps the breadth-first queue and the set of
patterns seen, and processes regions itself; ``n_jobs - 1`` worker processes
(started once per call, as soon as enough regions are pending; a small search
stays serial) take batches of pending regions, do all of the geometry (rows,
facets, certificate, neighbours) and send back each batch's regions with the
neighbours they found.  The result (regions, adjacency) is assembled while
the search runs.  Each region is processed exactly once, so the parallel
result equals the serial one (same regions, same graph); only the order and
the witnesses may differ.  A worker that dies mid-run (killed, out of memory)
loses nothing: the batches it had not answered go back into the queue, a
``RuntimeWarning`` says so, and the search finishes with the processes left.

Messages: the master sends :class:`PackedItems` (or ``None`` to stop); a
worker answers each with a :class:`BatchReply` or :class:`WorkerFailed`, and
the stop message with :class:`WorkerDone`.
"""

from __future__ import annotations

import os
import warnings
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..lp import LPCounters
from ..network import LocalAffineMap, ReLUNetwork
from ..tolerances import Tolerances
from .budget import Budget
from .certify import DecisionStats
from .checkpoint import Checkpointer, SearchSnapshot
from .domain import Domain
from .outcome import Counted, Outcome, PendingRegion, RegionWork
from .pattern import ActivationPattern
from .processor import RegionProcessor
from .result import RegionCollector
from .search import SearchOut, begin, enqueue_new, record, snapshot

__all__ = [
    "parallel_search",
    "merge_reply",
    "worker_main",
    "process_batch",
    "PackedItems",
    "BatchReply",
    "WorkerFailed",
    "WorkerDone",
]

# Regions the master processes itself between two looks at the workers' replies.
_MASTER_CHUNK = 4

# The workers are started once this many regions are pending (small searches stay serial:
# starting a process costs about as much as processing a dozen regions).
_START_WORKERS_AT = 16

# Seconds between a worker's checks that its parent is still alive (while it waits for work).
_PARENT_POLL = 1.0

# Largest batch of pending regions handed to a worker at once (a latency/overhead trade-off).
_MAX_BATCH = 32


@dataclass(frozen=True)
class PackedItems:
    """Pending regions as two arrays (one pickle each): signs, and [facet point | normal | guess] (nan = None)."""

    signs: NDArray[np.int8]
    hints: NDArray[np.float64]


@dataclass(frozen=True)
class BatchReply:
    """A worker's answer to one batch: everything the batch produced.

    ``works`` are the counted regions (packed), ``others`` the outcomes of the
    patterns not counted, ``counters`` the batch's LPs and ``fresh`` the
    neighbours this worker had not reported before (``None`` if none).
    """

    works: dict[str, Any]
    others: list[Outcome]
    counters: LPCounters
    fresh: PackedItems | None
    stats: DecisionStats


@dataclass(frozen=True)
class WorkerFailed:
    """A worker's batch raised: the caller re-raises ``error``."""

    error: BaseException


@dataclass(frozen=True)
class WorkerDone:
    """A worker's acknowledgement of the stop message."""


def pack_items(items: list[PendingRegion], d: int) -> PackedItems:
    """Pending regions as two stacked arrays (cheap to pickle)."""
    S = np.stack([it.signs for it in items])
    F = np.full((len(items), 3 * d), np.nan)
    for i, it in enumerate(items):
        pt, nrm, wit = it.facet_point, it.normal, it.guess
        if pt is not None:
            F[i, :d] = pt
        if nrm is not None:
            F[i, d : 2 * d] = nrm
        if wit is not None:
            F[i, 2 * d :] = wit
    return PackedItems(S, F)


def unpack_item(packed: PackedItems, i: int, d: int) -> PendingRegion:
    """The ``i``-th pending region of ``packed``."""
    row = packed.hints[i]
    pt, nrm, wit = row[:d], row[d : 2 * d], row[2 * d :]
    return PendingRegion(
        packed.signs[i].copy(),
        None if np.isnan(pt[0]) else pt,
        None if np.isnan(nrm[0]) else nrm,
        None if np.isnan(wit[0]) else wit,
    )


def pack_works(works: list[RegionWork]) -> dict[str, Any]:
    """The regions a worker found, as a few stacked arrays plus small lists (cheap to pickle)."""
    if not works:
        return {"n": 0}
    has_out = works[0].affine.out_A is not None
    return {
        "n": len(works),
        "signs": np.stack([w.signs for w in works]),
        "witness": np.stack([w.witness for w in works]),
        "margin": [w.margin for w in works],
        "facet_units": [w.facet_units for w in works],
        "neighbor_keys": [w.neighbor_keys for w in works],
        "n_facets": [w.n_facets for w in works],
        "bounded": [w.bounded for w in works],
        "thin": [w.thin for w in works],
        "exact_witness": [w.exact_witness for w in works],
        "A": np.stack([w.affine.A for w in works]),
        "c": np.stack([w.affine.c for w in works]),
        "out_A": np.stack([w.affine.out_A for w in works if w.affine.out_A is not None]) if has_out else None,
        "out_c": np.stack([w.affine.out_c for w in works if w.affine.out_c is not None]) if has_out else None,
    }


def unpack_works(pk: dict[str, Any]) -> list[RegionWork]:
    """The regions packed by :func:`pack_works`."""
    out = []
    for i in range(pk["n"]):
        aff = LocalAffineMap(
            pk["A"][i],
            pk["c"][i],
            None if pk["out_A"] is None else pk["out_A"][i],
            None if pk["out_c"] is None else pk["out_c"][i],
        )
        out.append(
            RegionWork(
                pk["signs"][i],
                pk["witness"][i],
                pk["margin"][i],
                pk["facet_units"][i],
                pk["neighbor_keys"][i],
                pk["n_facets"][i],
                pk["bounded"][i],
                aff,
                pk["thin"][i],
                pk["exact_witness"][i],
            )
        )
    return out


def worker_main(
    conn: Any,
    net: ReLUNetwork,
    domain: Domain,
    tol: Tolerances,
    method: str,
    compute_bounded: bool,
    backend: Any = "highs",
) -> None:
    """Worker process: process batches of pending regions until told to stop.

    The reply to a batch carries everything it produced: its regions
    (packed), its thin or unresolved patterns, its LP counters, and the
    neighbours this worker has not reported before (the master owns the
    global ``seen`` set).  Nothing is kept here, so a worker that dies loses
    only the batches it had not answered.
    """
    import signal

    # Ctrl-C in a terminal reaches the whole process group: the master decides what happens
    # (stop or abort) and tells the workers, so they ignore it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    d = domain.dim
    proc = RegionProcessor(net, domain, tol, method, compute_bounded, backend)
    reported: set[bytes] = set()
    while True:
        # A parent that died (SIGKILL, SIGTERM without cleanup) never sends the stop message:
        # look for it between polls, so no worker is left behind at full CPU.
        while not conn.poll(_PARENT_POLL):
            if os.getppid() != parent:
                os._exit(0)
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            os._exit(0)
        try:
            if msg is None:
                conn.send(WorkerDone())
                return
            conn.send(process_batch(proc, msg, reported, d))
        except (BrokenPipeError, EOFError, OSError):
            os._exit(0)  # the parent is gone: nobody wants the answer


def process_batch(proc: RegionProcessor, batch: PackedItems, reported: set[bytes], d: int) -> BatchReply | WorkerFailed:
    """Process one batch of pending regions: everything it produced, packed for the trip back.

    ``reported`` holds the neighbour patterns this worker already sent (it is
    updated), so each is sent once per worker; the caller owns the global
    ``seen`` set.  An error is returned as :class:`WorkerFailed`, for the
    caller to re-raise.
    """
    fresh: list[PendingRegion] = []
    works: list[RegionWork] = []
    others: list[Outcome] = []
    proc.counters = LPCounters()  # this batch's LPs and decisions
    proc.cert.stats = DecisionStats()
    try:
        for i in range(batch.signs.shape[0]):
            done = proc.process(unpack_item(batch, i, d))
            if isinstance(done.outcome, Counted):
                works.append(done.outcome.work)
            else:
                others.append(done.outcome)
            enqueue_new(done.neighbors, reported, fresh)
    except Exception as exc:  # noqa: BLE001 -- any error is handed to the caller, which re-raises it
        return WorkerFailed(exc)
    packed_fresh = pack_items(fresh, d) if fresh else None
    return BatchReply(pack_works(works), others, proc.counters, packed_fresh, proc.cert.stats)


def merge_reply(out: SearchOut, reply: BatchReply, seen: set[bytes], queue: deque[PendingRegion], d: int) -> int:
    """Merge a worker's answer to one batch into the search (local processes and Dask alike).

    Its regions and other outcomes go into ``out``, its counters are added, and its
    new neighbours not in ``seen`` join ``queue`` (also when stopping: a checkpoint
    keeps them pending).  Returns the number of regions the batch counted.
    """
    for w in unpack_works(reply.works):
        record(out, Counted(w))
    for outcome in reply.others:
        record(out, outcome)
    out.counters.merge(reply.counters)
    out.stats.merge(reply.stats)
    packed = reply.fresh
    if packed is not None:
        for i in range(packed.signs.shape[0]):
            key = packed.signs[i].tobytes()
            if key not in seen:
                seen.add(key)
                queue.append(unpack_item(packed, i, d))
    return int(reply.works["n"])


def parallel_search(
    net: ReLUNetwork,
    domain: Domain,
    tol: Tolerances,
    *,
    method: str,
    start: tuple[NDArray[np.float64], ActivationPattern],
    budget: Budget,
    compute_bounded: bool,
    n_jobs: int,
    backend: Any = "highs",
    resume: SearchSnapshot | None = None,
    checkpointer: Checkpointer | None = None,
    collector: RegionCollector | None = None,
) -> SearchOut:
    """Breadth-first search with the region work shared among ``n_jobs`` processes.

    This process (the master) holds the queue and the ``seen`` set, hands
    batches of pending regions to ``n_jobs - 1`` worker processes and works
    through the queue itself in between; each worker reply brings the batch's
    regions and new neighbours.  Every region is processed exactly once, so
    the result equals the serial search's up to the order of regions and the
    witnesses.  A worker that dies (killed, out of memory) costs nothing but
    time: its unanswered batches go back into the queue and the search goes
    on without it (with a warning).
    """
    import multiprocessing as mp
    from multiprocessing.connection import wait

    d = domain.dim
    out = SearchOut(collector or RegionCollector(net.hidden_widths, domain), method=method)
    proc = RegionProcessor(net, domain, tol, method, compute_bounded, backend)
    out.counters = proc.counters
    out.stats = proc.cert.stats
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    procs: list[Any] = []
    sent: dict[Any, deque[list[PendingRegion]]] = {}  # live worker connection -> its unanswered batches
    queue, seen = begin(out, start, resume, checkpointer)
    n_regions = len(out.collector.regions)
    stopping = False
    error: BaseException | None = None

    def start_workers() -> None:
        for _ in range(n_jobs - 1):
            parent, child = ctx.Pipe()
            p = ctx.Process(
                target=worker_main, args=(child, net, domain, tol, method, compute_bounded, backend), daemon=True
            )
            p.start()
            child.close()
            procs.append(p)
            sent[parent] = deque()

    def take(reply: BatchReply) -> int:
        return merge_reply(out, reply, seen, queue, d)

    def lose(c: Any) -> None:
        """A worker is gone: its unanswered batches go back to the front of the queue."""
        lost = sent.pop(c)
        for batch in reversed(lost):
            queue.extendleft(reversed(batch))
        c.close()
        n_lost = sum(len(b) for b in lost)
        warnings.warn(
            f"a worker process of the region enumeration ended unexpectedly; its {n_lost} unfinished "
            f"region(s) were re-queued and the search goes on with {len(sent)} worker(s) left.",
            RuntimeWarning,
            stacklevel=4,
        )

    def save() -> None:
        # Regions handed to a worker and not yet answered are still pending.
        in_flight = [it for batches in sent.values() for b in batches for it in b]
        assert checkpointer is not None
        checkpointer.write(snapshot(out, [*in_flight, *queue], seen, budget.elapsed()), d)

    try:
        while True:
            if checkpointer is not None and checkpointer.due():
                save()
            budget.workers = 1 + len(sent)
            if not stopping:
                reason = budget.stop_reason(n_regions, len(queue), out.counters.solves)
                if reason is not None:
                    stopping = True
                    out.complete, out.message = False, reason
            if not procs and not stopping and len(queue) >= _START_WORKERS_AT:
                start_workers()  # lazily: a search that never has this much pending work stays serial
            if not stopping:
                # Keep two batches in flight per worker (batches grow with the queue), then take a
                # few regions for this process.
                for c in list(sent):
                    while len(sent[c]) < 2 and len(queue) > _MASTER_CHUNK:
                        size = max(1, min(_MAX_BATCH, (len(queue) - _MASTER_CHUNK) // (2 * n_jobs)))
                        batch = [queue.popleft() for _ in range(size)]
                        sent[c].append(batch)
                        try:
                            c.send(pack_items(batch, d))
                        except OSError:
                            lose(c)
                            break
                for _ in range(min(_MASTER_CHUNK, len(queue))):
                    done = proc.process(queue.popleft())
                    n_regions += record(out, done.outcome)
                    enqueue_new(done.neighbors, seen, queue)
            busy = [c for c in sent if sent[c]]
            if not busy:
                if stopping or not queue:
                    break
                continue
            if queue and not stopping:
                ready = [c for c in busy if c.poll()]  # no selector set-up on the hot path
            else:
                ready = wait(busy, timeout=0.5)
            for c in ready:
                try:
                    reply = c.recv()
                except (EOFError, OSError):
                    lose(c)
                    continue
                batch = sent[c].popleft()
                if isinstance(reply, WorkerFailed):
                    error, stopping = reply.error, True
                    queue.extendleft(reversed(batch))  # still pending (a checkpoint keeps it)
                else:
                    n_regions += take(reply)
        if queue and out.complete:
            out.complete, out.message = False, "stopped with regions still queued"
    finally:
        for c in sent:
            try:
                c.send(None)
                reply = c.recv()
                while not isinstance(reply, WorkerDone):  # the answer to a batch sent before the search stopped
                    batch = sent[c].popleft()
                    if isinstance(reply, BatchReply):
                        take(reply)
                    else:
                        queue.extendleft(reversed(batch))
                    reply = c.recv()
            except (OSError, EOFError, IndexError):
                pass  # a worker gone: its unanswered batches stay in `sent`, pending for a checkpoint
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
        if checkpointer is not None:
            save()
    if error is not None:
        raise error
    if budget.max_regions is not None:
        out.collector.truncate(budget.max_regions)
    out.processes = 1 + len(procs)
    return out
