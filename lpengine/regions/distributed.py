"""The region search on a Dask cluster (``enumerate_regions(..., client=...)``): owner-partitioned rounds.

Design (issue 15; :mod:`.partition` holds the per-partition work).  The
patterns are split among ``W`` partitions (``partitions=``, by default the
number of worker threads) by a stable hash of their packed bits.  Partition
``p`` keeps its share of the seen set and of the frontier on a worker, in a
Dask future; nothing about individual regions passes through this process
(the **driver**) unless the regions are kept.  The search runs in
level-synchronous rounds: per round, one task per partition takes its state
future and the candidate batches the other partitions sent it, and returns
its new state, a small report and one outbox per partition; ``W (W - 1)``
tiny ``getitem`` tasks route the outboxes, so the candidates move from worker
to worker and the driver only holds futures.  The driver gathers the
reports (counts, LP counters, statistics), decides budgets and stops after
the first round in which no partition has work and nothing was sent.  It
keeps two rounds in flight, so the workers do not wait for its round trip.

Why futures and not actors: every round task is a pure function of its
inputs, so a worker lost mid-run costs only time (Dask recomputes the lost
futures from their lineage, as far back as needed); an actor's state would
die with its worker and need a recovery protocol of its own.  The price is
``W^2 + 2 W`` small tasks per round through the scheduler (see the guide's
plan for 100 workers).

What equals the serial result: every pattern is processed once, by its
owner, with the serial search's :class:`~.processor.RegionProcessor`, so the
count, the patterns, boundedness, thin flags and the adjacency graph are the
serial ones with any ``W``.  The witnesses, margins and ``lp_solves`` may
differ (a region's interior point depends on the facet it was first reached
through).  With ``keep_regions=False`` no process holds all regions: each
partition keeps its seen share, the driver the summed statistics, and with
``shards_dir`` each partition writes its regions to its own shards
(``regions-pXXXX-NNNNN.npz``; the folder must be visible to every worker).
With a ``checkpoint``, the driver gathers the partitions' states when a write
is due (the regions are kept then anyway); with shards too, the checkpoint
names the shard files written up to its round and carries the rows still in
the partitions' buffers, and a resumed partition numbers its shards after its
committed ones (see :mod:`.stream`).
"""

from __future__ import annotations

import logging
import operator
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..network import ReLUNetwork
from ..tolerances import Tolerances
from .budget import Budget
from .checkpoint import Checkpointer, SearchSnapshot
from .domain import Domain
from .outcome import Counted, PendingRegion
from .packing import unpack_works
from .partition import (
    Outbox,
    PartitionState,
    RoundReport,
    SearchSetup,
    finish_partition,
    initial_states,
    owners,
    pack_signs,
    run_round,
    unpack_candidates,
    unpack_signs,
)
from .pattern import ActivationPattern
from .result import RegionCollector
from .search import SearchOut, begin, record, snapshot
from .stream import SHARD_SIZE, StreamingCollector, n_collected, shard_index

__all__ = ["distributed_search", "Traffic"]

logger = logging.getLogger(__name__)

# Regions a partition processes per round: first, least and most (the cap adapts so that a round
# takes about _ROUND_SECONDS: long enough to hide the scheduler's latency, short enough for budgets).
_FIRST_CAP = 64
_MIN_CAP = 16
_MAX_CAP = 8192
_ROUND_SECONDS = 0.5
# Rounds in flight (without max_regions): the next round is queued before the last one's report is read.
_DEPTH = 2
# Seconds between two questions to the scheduler about the workers (they may come and go).
_LOOK_EVERY = 2.0


@dataclass
class Traffic:
    """What the partitions sent each other (measured on the packed batches), summed over the rounds."""

    rounds: int = 0
    partitions: int = 1
    candidates_sent: int = 0
    candidates_local: int = 0
    prefixes_sent: int = 0
    bytes_sent: int = 0
    messages: int = 0
    tasks: int = 0
    task_seconds: float = 0.0
    task_cpu_seconds: float = 0.0
    #: Seconds partitions spent waiting at the rounds' barrier: sum over rounds and partitions of
    #: (the round's longest task - this partition's task).
    barrier_seconds: float = 0.0

    def per_region(self, n: int) -> dict[str, float]:
        """The totals divided by ``n`` regions (JSON-ready)."""
        n = max(n, 1)
        return {
            "candidates_sent": self.candidates_sent / n,
            "candidates_local": self.candidates_local / n,
            "bytes_sent": self.bytes_sent / n,
            "messages": self.messages / n,
            "tasks": self.tasks / n,
        }


@dataclass
class _Round:
    number: int
    caps: list[int]
    states: list[Any]
    reports: list[Any]
    inbox: list[list[Any]] = field(default_factory=list)  # inbox[p] = futures of the outboxes sent to p


def _same(x: Any) -> Any:
    """Identity task: data submitted this way is recomputable (its lineage holds it), unlike scattered data."""
    return x


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
    partitions: int | None = None,
    traffic: Traffic | None = None,
) -> SearchOut:
    """Owner-partitioned breadth-first search on the Dask cluster of ``client`` (see the module docstring).

    ``partitions`` defaults to the number of worker threads; ``traffic``, if
    given, receives the measured messages and bytes.
    """
    d = domain.dim
    out = SearchOut(collector or RegionCollector(net.hidden_widths, domain), method=method)
    stream = out.collector if isinstance(out.collector, StreamingCollector) else None
    if partitions is None:
        partitions = max(1, sum(client.nthreads().values()))
    W = partitions
    tr = traffic if traffic is not None else Traffic()
    tr.partitions = W
    token = uuid.uuid4().hex[:12]
    shards = None if stream is None or stream.shards_dir is None else str(stream.shards_dir)
    setup = SearchSetup(
        token,
        net,
        domain,
        tol,
        method,
        compute_bounded,
        backend,
        W,
        stream is None,
        shards,
        SHARD_SIZE if stream is None else stream.shard_size,
    )
    queue, seen = begin(out, start, resume, checkpointer)
    resumed_prefixes = None
    carried: list[str] = []  # shard files committed before a resume (any partitioning)
    carry = None
    if stream is not None and resume is not None and resume.stream is not None:
        st = resume.stream
        stream.absorb(st.count, st.n_bounded, st.thin, st.min_margin, st.active_sum, st.any_active, st.all_active)
        resumed_prefixes = st.prefixes
        if shards is not None and st.shard_files is not None:
            carried, carry = list(st.shard_files), st.shard_buffer
    states0 = initial_states(setup, list(queue), seen, resumed_prefixes)
    # Each partition numbers its new shards after its own committed ones (never reusing a committed name),
    # and takes the rows the checkpoint carried that it owns (written with its next shard).
    first_shard = [_first_free(carried, p) for p in range(W)]
    for p, st0 in enumerate(states0):
        st0.n_shards = first_shard[p]
    if carry is not None and len(carry["margin"]):
        own = owners(pack_signs(carry["signs"]), W)
        for p, st0 in enumerate(states0):
            sel = own == p
            if np.any(sel):
                st0.shard_buffer = ({k: v[sel] for k, v in carry.items()},)
    del queue, seen  # from here on the partitions hold them
    prefix = f"lpe-{token}"
    setup_f = client.submit(_same, setup, key=f"{prefix}-setup")
    homes = _homes(client, W)
    state_f = [
        client.submit(_same, s, key=f"{prefix}-init-{p}", workers=homes[p], allow_other_workers=True)
        for p, s in enumerate(states0)
    ]
    del states0
    n_regions = n_collected(out.collector)  # a resumed streaming search starts from its checkpoint's count
    cap = _FIRST_CAP
    last_queued = [0] * W
    processes: set[str] = set()
    inflight: deque[_Round] = deque()
    last: _Round | None = None
    next_round = 0
    inbox: list[list[Any]] = [[] for _ in range(W)]
    idle = False
    stopping = False

    def submit(caps: list[int]) -> None:
        nonlocal next_round, inbox, state_f
        r = next_round
        next_round += 1
        keys = [f"{prefix}-r{r}-p{p}" for p in range(W)]
        # Each partition has a home worker (a preference, so that a lost worker's partitions move on);
        # without it the scheduler may keep every partition on one worker, by data locality.
        res = [
            client.submit(
                run_round,
                setup_f,
                p,
                caps[p],
                state_f[p],
                inbox[p],
                key=keys[p],
                workers=homes[p],
                allow_other_workers=True,
            )
            for p in range(W)
        ]
        states = client.map(operator.getitem, res, [0] * W, key=[f"{k}-state" for k in keys])
        reports = client.map(operator.getitem, res, [1] * W, key=[f"{k}-report" for k in keys])
        pairs = [(p, q) for p in range(W) for q in range(W) if p != q]
        boxes = client.map(
            operator.getitem,
            [res[p] for p, _ in pairs],
            [2 + q for _, q in pairs],
            key=[f"{keys[p]}-to{q}" for p, q in pairs],
        )
        new_inbox: list[list[Any]] = [[] for _ in range(W)]
        for (_, q), f in zip(pairs, boxes, strict=True):
            new_inbox[q].append(f)
        tr.tasks += len(res) + len(states) + len(reports) + len(boxes)
        inflight.append(_Round(r, caps, states, reports, new_inbox))
        state_f, inbox = states, new_inbox

    def caps_for_next() -> list[int] | None:
        if budget.max_regions is None:
            return [cap] * W
        pending = sum(sum(rd.caps) for rd in inflight)
        remaining = budget.max_regions - n_regions - pending
        if remaining <= 0:
            return None
        base, extra = divmod(min(remaining, cap * W), W)
        order = sorted(range(W), key=lambda p: -last_queued[p])
        caps = [base] * W
        for p in order[:extra]:
            caps[p] += 1
        return caps

    def merge(reports: list[RoundReport]) -> int:
        counted = 0
        for rep in reports:
            if rep.processed:
                processes.add(rep.process)
            if rep.works is not None:
                for w in unpack_works(rep.works):
                    record(out, Counted(w))
            for u in rep.undecided:
                record(out, u)
            out.counters.merge(rep.counters)
            out.stats.merge(rep.stats)
            if stream is not None:
                stream.absorb(
                    rep.counted,
                    rep.n_bounded,
                    [str(ActivationPattern(s, net.hidden_widths)) for s in rep.thin],
                    rep.min_margin,
                    rep.active_sum,
                    rep.any_active,
                    rep.all_active,
                )
            counted += rep.counted
            tr.candidates_sent += rep.sent
            tr.candidates_local += rep.kept_local
            tr.prefixes_sent += rep.prefixes_sent
            tr.bytes_sent += rep.sent_bytes
            tr.messages += rep.messages
            tr.task_seconds += rep.seconds
            tr.task_cpu_seconds += rep.cpu_seconds
        return counted

    def save() -> None:
        assert checkpointer is not None
        if last is None:
            return
        checkpointer.write(_gather_snapshot(client, out, last, setup, budget, stream, carried, first_shard), d)

    budget.workers = len({h[0] for h in homes if h})
    next_look = time.perf_counter() + _LOOK_EVERY
    try:
        first = caps_for_next()
        if first is not None:
            submit(first)
        while inflight:
            rd = inflight[0]
            reports: list[RoundReport] = client.gather(rd.reports)
            inflight.popleft()
            last = rd
            tr.rounds += 1
            n_regions += merge(reports)
            last_queued = [rep.queued for rep in reports]
            idle = all(rep.queued == 0 and rep.sent == 0 and rep.prefixes_sent == 0 for rep in reports)
            if stream is not None:
                stream.prefix_sizes = [
                    *(sum(rep.prefix_sizes[l] for rep in reports) for l in range(len(net.hidden_widths) - 1)),
                    stream.count,
                ]
            done = sum(rep.processed for rep in reports)
            secs = max((rep.seconds for rep in reports), default=0.0)
            tr.barrier_seconds += sum(secs - rep.seconds for rep in reports)
            if done and secs > 0:
                per = secs / max(1, max(rep.processed for rep in reports))
                cap = int(min(_MAX_CAP, max(_MIN_CAP, _ROUND_SECONDS / max(per, 1e-6))))
            if idle:
                break
            if checkpointer is not None and checkpointer.due():
                save()
            if time.perf_counter() > next_look:  # the cluster may grow or shrink
                homes = _homes(client, W)
                budget.workers = len({h[0] for h in homes if h})
                next_look = time.perf_counter() + _LOOK_EVERY
            if not stopping:
                reason = budget.stop_reason(n_regions, sum(last_queued), out.counters.solves)
                if reason is not None:
                    stopping, out.complete, out.message = True, False, reason
            depth = 1 if budget.max_regions is not None else _DEPTH
            while not stopping and len(inflight) < depth:
                caps = caps_for_next()
                if caps is None:
                    break
                submit(caps)
            logger.debug("round %d: %d regions, %d queued", rd.number, n_regions, sum(last_queued))
    finally:
        for rd in inflight:
            client.cancel(rd.states + rd.reports)
        if checkpointer is not None:
            save()
    if idle:
        out.complete = out.complete and not out.undecided
        if stream is not None and shards is not None and last is not None:
            fin = client.map(
                finish_partition, [setup_f] * W, range(W), last.states, key=[f"{prefix}-fin-{p}" for p in range(W)]
            )
            stream.n_shards = len(carried) + sum(n - f for n, f in zip(client.gather(fin), first_shard, strict=True))
    elif out.complete:
        out.complete, out.message = False, "stopped with regions still queued"
    if budget.max_regions is not None:
        out.collector.truncate(budget.max_regions)
    out.processes = max(1, len(processes))
    n = stream.count if stream is not None else len(out.collector.regions)
    logger.info(
        "Dask search: %d partitions, %d rounds, %d regions; per region %.2f candidates and %.1f bytes sent, "
        "%.2f kept local, %.3f messages",
        W,
        tr.rounds,
        n,
        tr.candidates_sent / max(n, 1),
        tr.bytes_sent / max(n, 1),
        tr.candidates_local / max(n, 1),
        tr.messages / max(n, 1),
        extra={"traffic": tr},
    )
    return out


def _homes(client: Any, partitions: int) -> list[list[str] | None]:
    """A home worker per partition: the workers' threads dealt out round-robin (one-element lists)."""
    slots = [addr for addr, n in sorted(client.nthreads().items()) for _ in range(max(1, int(n)))]
    if not slots:
        return [None] * partitions  # no worker yet: the tasks wait for one
    # Deal the threads worker by worker (a, b, a, b for two workers of two threads each).
    order = sorted(range(len(slots)), key=lambda i: (slots[: i + 1].count(slots[i]), i))
    slots = [slots[i] for i in order]
    return [[slots[p % len(slots)]] for p in range(partitions)]


def _first_free(files: list[str], partition: int) -> int:
    """The first shard number of ``partition`` after its committed ``files`` (0 if it has none)."""
    own = [i for i in (shard_index(f, partition) for f in files) if i is not None]
    return max(own) + 1 if own else 0


def _gather_snapshot(
    client: Any,
    out: SearchOut,
    rd: _Round,
    setup: SearchSetup,
    budget: Budget,
    stream: StreamingCollector | None,
    carried: list[str],
    first_shard: list[int],
) -> SearchSnapshot:
    """The search state after round ``rd`` (gathered from the partitions): frontier, seen set, regions.

    Without kept regions, the streamed statistics and the distinct layer prefixes take their place; with
    shards, the shard files written up to round ``rd`` (``carried`` ones from before a resume, and partition
    ``p``'s numbers ``first_shard[p]`` up to its state's count) and the rows still in the partitions' buffers.
    """
    n_units = sum(setup.net.hidden_widths)
    d = setup.domain.dim
    states: list[PartitionState] = client.gather(rd.states)
    boxes: list[list[Outbox | None]] = [client.gather(fs) for fs in rd.inbox]
    seen_packed: set[bytes] = set()
    queue: list[PendingRegion] = []
    for st in states:
        seen_packed |= st.seen
        queue += unpack_candidates(st.queue, n_units, d)
    # Candidates in transit: pending unless their owner has already seen them (then they were handled).
    for p, lst in enumerate(boxes):
        for box in lst:
            if box is None or box.candidates is None:
                continue
            b = box.candidates
            assert bool(np.all(owners(b.keys, setup.partitions) == p))
            for i, item in enumerate(unpack_candidates(b, n_units, d)):
                kb = b.keys[i].tobytes()
                if kb not in seen_packed:
                    seen_packed.add(kb)
                    queue.append(item)
    keys = np.frombuffer(b"".join(sorted(seen_packed)), dtype=np.uint8).reshape(len(seen_packed), -1)
    seen = {row.tobytes() for row in unpack_signs(keys, n_units)} if len(seen_packed) else set()
    snap = snapshot(out, queue, seen, budget.elapsed())
    if stream is not None:
        n_pre = len(setup.net.hidden_widths) - 1
        pre: list[set[bytes]] = [set() for _ in range(n_pre)]
        for st in states:
            for l in range(n_pre):
                pre[l] |= st.prefixes[l]
        for lst in boxes:  # prefixes in transit
            for box in lst:
                for l, arr in enumerate(box.prefixes if box is not None else ()):
                    pre[l].update(r.tobytes() for r in arr)
        files = None
        if setup.shards_dir is not None:
            files = carried + [
                f"regions-p{p:04d}-{i:05d}.npz"
                for p, st in enumerate(states)
                for i in range(first_shard[p], st.n_shards)
            ]
        snap.stream = stream.snapshot(
            shard_files=files,
            shard_buffer=[rows for st in states for rows in st.shard_buffer],
            packed_prefixes=[
                np.frombuffer(b"".join(sorted(s)), dtype=np.uint8).reshape(len(s), -1)
                if s
                else np.zeros((0, 1), dtype=np.uint8)
                for s in pre
            ],
        )
    return snap
