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

Scheduling: each worker has up to ``_IN_FLIGHT`` batches in its pipe (of up
to ``_MAX_BATCH`` regions, smaller while the queue is short), and the master
processes up to ``BATCH`` regions itself (one batch, as the serial search
batches; never more than a worker still has in flight) between two looks at the replies.
When the queue is short (the start and the end of a search), an idle worker
still gets its share of it.  On two cores, ``n_jobs=2`` therefore keeps both
busy: the master's time goes to its own regions, merging the replies and
little else (:class:`~.workstats.WorkSharingStats` says how much of each).

Messages (pickled, their size counted): the master sends
:class:`~.packing.PackedItems` (or ``None`` to stop); a worker answers each
with a :class:`BatchReply` or :class:`WorkerFailed`, and the stop message with
:class:`WorkerDone`.
"""

from __future__ import annotations

import logging
import os
import pickle
import time
import warnings
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..lp import LPCounters
from ..network import ReLUNetwork
from ..tolerances import Tolerances
from .budget import Budget
from .certify import DecisionStats
from .checkpoint import Checkpointer, SearchSnapshot
from .domain import Domain
from .outcome import Counted, Outcome, PendingRegion, RegionWork
from .packing import PackedItems, pack_items, pack_works, unpack_items, unpack_works
from .pattern import ActivationPattern
from .processor import BATCH, RegionProcessor
from .result import RegionCollector
from .search import SearchOut, begin, enqueue_new, record, snapshot
from .stream import StreamingCollector, n_collected
from .workstats import WorkerDone, WorkSharingStats

__all__ = [
    "parallel_search",
    "merge_reply",
    "admit",
    "worker_main",
    "process_batch",
    "BatchReply",
    "WorkerFailed",
    "WorkerDone",
]

logger = logging.getLogger(__name__)

# The master processes at most one processor batch (BATCH regions) itself between two looks at the workers'
# replies (in batches of 4 the deep R^4 net capped at 10,000 regions took 1.13-1.37x the CPU, loaded
# machine).  A chunk never exceeds the regions the least busy worker still has in flight (nor goes below
# _MIN_CHUNK), so the master looks at the replies before that worker runs dry.
_MIN_CHUNK = 4

# The workers are started once this many regions are pending (small searches stay serial:
# starting a process costs about as much as processing a dozen regions).
_START_WORKERS_AT = 16

# Seconds between a worker's checks that its parent is still alive (while it waits for work).
_PARENT_POLL = 1.0

# Largest batch of pending regions handed to a worker at once (a latency/overhead trade-off).
_MAX_BATCH = 32

# Batches kept in flight per worker: while it works on one, the next ones wait in its pipe, so a
# master busy with its own chunk (or descheduled on a loaded machine) does not leave it idle.
_IN_FLIGHT = 3


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
    busy = idle = idle_first = 0.0
    n_regions = n_batches = bytes_in = bytes_out = 0
    while True:
        # A parent that died (SIGKILL, SIGTERM without cleanup) never sends the stop message:
        # look for it between polls, so no worker is left behind at full CPU.
        t0 = time.perf_counter()
        while not conn.poll(_PARENT_POLL):
            if os.getppid() != parent:
                os._exit(0)
        t1 = time.perf_counter()
        idle += t1 - t0
        if n_batches == 0:
            idle_first = t1 - t0
        try:
            raw = conn.recv_bytes()
        except (EOFError, OSError):
            os._exit(0)
        bytes_in += len(raw)
        c1 = time.thread_time()
        msg = pickle.loads(raw)
        try:
            if msg is None:
                t = os.times()
                done = WorkerDone(t.user + t.system, busy, idle, idle_first, n_regions, n_batches, bytes_in, bytes_out)
                conn.send_bytes(pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL))
                return
            reply = pickle.dumps(process_batch(proc, msg, reported, d), protocol=pickle.HIGHEST_PROTOCOL)
            n_regions += msg.signs.shape[0]
            n_batches += 1
            bytes_out += len(reply)
            busy += time.thread_time() - c1
            conn.send_bytes(reply)
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
        items = unpack_items(batch, d)
        dones = []
        for i in range(0, len(items), BATCH):
            # Batched as the serial search batches (the same outcomes; certificates stacked).
            dones.extend(proc.process_batch(items[i : i + BATCH]))
        for done in dones:
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
    n = 0
    for w in unpack_works(reply.works):
        n += admit(out, Counted(w), queue)
    for outcome in reply.others:
        record(out, outcome)
    out.counters.merge(reply.counters)
    out.stats.merge(reply.stats)
    packed = reply.fresh
    if packed is not None:
        new = []
        for i, row in enumerate(packed.signs):
            key = row.tobytes()
            if key not in seen:
                seen.add(key)
                new.append(i)
        if new:
            queue.extend(unpack_items(packed, d, new))
    return n


def _room(max_regions: int | None, n_regions: int, sent: dict[Any, deque[list[PendingRegion]]]) -> int:
    """How many more regions may be handed out (or processed here): the budget left after those in flight."""
    if max_regions is None:
        return 1 << 62
    return max_regions - n_regions - sum(len(b) for batches in sent.values() for b in batches)


def _chunk(sent: dict[Any, deque[list[PendingRegion]]]) -> int:
    """How many regions the master takes for itself: no more than the least busy worker has in flight."""
    if not sent:
        return BATCH
    least = min(sum(len(b) for b in batches) for batches in sent.values())
    return max(_MIN_CHUNK, min(BATCH, least))


def admit(out: SearchOut, outcome: Outcome, queue: deque[PendingRegion]) -> int:
    """Record one outcome; 1 if it was a region counted.

    The work sharing may process a few regions past ``max_regions`` (batches in
    flight when the budget ran out).  The regions a full streaming collector
    cannot take in go back to the front of the queue, still pending: a
    checkpoint keeps them and a resumed search counts them (their neighbours
    are queued already).  A kept collector takes them all and is truncated at
    the end, after the checkpoint has them.
    """
    if isinstance(outcome, Counted) and isinstance(out.collector, StreamingCollector) and out.collector.full:
        w = outcome.work
        queue.appendleft(PendingRegion(w.signs, guess=w.witness))
        return 0
    return int(record(out, outcome))


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
    n_regions = n_collected(out.collector)
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

    ws = WorkSharingStats()

    def send(c: Any, msg: PackedItems | None) -> None:
        raw = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)
        ws.bytes_out += len(raw)
        c.send_bytes(raw)

    def recv(c: Any) -> BatchReply | WorkerFailed | WorkerDone:
        raw = c.recv_bytes()
        ws.bytes_in += len(raw)
        reply: BatchReply | WorkerFailed | WorkerDone = pickle.loads(raw)
        return reply

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

    clock = time.thread_time  # the master's split in CPU seconds of its (only working) thread; wait: wall
    cpu0 = os.times()
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
                ws.started = time.perf_counter() - budget.t0
            room = 0
            if not stopping:
                # Keep _IN_FLIGHT batches in flight per worker (batches grow with the queue), then
                # take a few regions for this process.
                t = clock()
                # With max_regions, never hand out more regions than the budget has left (regions
                # processed past it were wasted work: 81 of 3,000 on a capped deep net).
                room = _room(budget.max_regions, n_regions, sent)
                for c in list(sent):
                    while len(sent[c]) < _IN_FLIGHT and room > 0:
                        spare = len(queue) - _MIN_CHUNK
                        if spare > 0:
                            size = max(1, min(_MAX_BATCH, spare // (_IN_FLIGHT * n_jobs)))
                        elif not sent[c] and len(queue) >= n_jobs:
                            # A short queue (the start or the end of the search) with this worker idle:
                            # share it instead of keeping it all.
                            size = len(queue) // n_jobs
                        else:
                            break
                        size = min(size, room)
                        room -= size
                        batch = [queue.popleft() for _ in range(size)]
                        sent[c].append(batch)
                        try:
                            send(c, pack_items(batch, d))
                        except OSError:
                            lose(c)
                            break
                t1 = clock()
                ws.send_s += t1 - t
                k = min(_chunk(sent), len(queue), room)
                # One batch (as the serial search does); the regions leave the queue once processed.
                own = proc.process_batch([queue[i] for i in range(k)]) if k else []
                for _ in range(k):
                    queue.popleft()
                for done in own:
                    n_regions += admit(out, done.outcome, queue)
                    enqueue_new(done.neighbors, seen, queue)
                ws.own_n += k
                ws.own_s += clock() - t1
            busy = [c for c in sent if sent[c]]
            if not busy:
                if stopping or not queue:
                    break
                continue
            if queue and not stopping and room > 0:
                ready = [c for c in busy if c.poll()]  # no selector set-up on the hot path
            else:
                t = time.perf_counter()
                ready = wait(busy, timeout=0.5)
                ws.wait_s += time.perf_counter() - t
            for c in ready:
                t = clock()
                # Every reply already there, not just one: a reply left unread keeps its batch counted in
                # flight, so the worker would get no new batch and could run dry during the next own chunk.
                while sent.get(c):
                    try:
                        reply = recv(c)
                    except (EOFError, OSError):
                        lose(c)
                        break
                    batch = sent[c].popleft()
                    if isinstance(reply, BatchReply):
                        n_regions += take(reply)
                    else:  # WorkerFailed (a worker says WorkerDone only to the stop message)
                        error = (
                            reply.error if isinstance(reply, WorkerFailed) else RuntimeError(f"unexpected {reply!r}")
                        )
                        stopping = True
                        queue.extendleft(reversed(batch))  # still pending (a checkpoint keeps it)
                        break
                    if not (sent[c] and c.poll()):
                        break
                ws.merge_s += clock() - t
        if queue and out.complete:
            out.complete, out.message = False, "stopped with regions still queued"
    finally:
        for c in sent:
            try:
                send(c, None)
                reply = recv(c)
                while not isinstance(reply, WorkerDone):  # the answer to a batch sent before the search stopped
                    batch = sent[c].popleft()
                    if isinstance(reply, BatchReply):
                        take(reply)
                    else:
                        queue.extendleft(reversed(batch))
                    reply = recv(c)
                ws.workers.append(reply)
            except (OSError, EOFError, IndexError):
                pass  # a worker gone: its unanswered batches stay in `sent`, pending for a checkpoint
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
        if checkpointer is not None:
            save()
        cpu1 = os.times()
        ws.master_cpu = cpu1.user + cpu1.system - cpu0.user - cpu0.system
        ws.wall = time.perf_counter() - budget.t0
        logger.info("work sharing: %s", ws.summary(), extra={"work_sharing": ws})
    if error is not None:
        raise error
    if budget.max_regions is not None:
        out.collector.truncate(budget.max_regions)
    out.processes = 1 + len(procs)
    return out
