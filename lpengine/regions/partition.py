"""One partition of the owner-partitioned region search (the Dask path's unit of work).

The patterns are split among ``W`` partitions by a stable hash of their packed
bits: the **owner** of a pattern is :func:`owners` of its ``np.packbits`` bytes
modulo ``W`` (a 64-bit BLAKE2b digest, the same on every machine and in every
process; Python's ``hash`` is salted per process and would not do).
Partition ``p`` keeps the patterns it owns that were ever queued (its share of
the seen set) and the pending regions it owns (its share of the frontier).

The search proceeds in level-synchronous **rounds**.  In a round, partition
``p`` (:func:`run_round`):

1. adds the candidates sent to it in the previous round that it has not seen
   to its seen set and its queue (in a fixed order: by sender, then by position);
2. processes up to ``cap`` regions from the front of its queue with
   :class:`~.processor.RegionProcessor` (the serial search's code, so every
   exact decision is the serial one);
3. keeps the neighbours it owns itself (queued at once if unseen) and packs the
   others per owner into :class:`Outbox` batches: patterns as ``np.packbits``
   rows (``ceil(N/8)`` bytes) and the interior-point hints as ``3 d`` floats.

It returns its new state, a :class:`RoundReport` for the driver (counts,
statistics, and the packed regions when they are kept) and one outbox per
partition.  :func:`run_round` is a pure function of its inputs: it copies the
state instead of changing it, so Dask may run it again after a worker loss.
The driver only sums reports and decides when to stop: the search is complete
after a round in which no partition has queued work and no candidate was sent.

With ``keep_regions=False`` the per-layer statistic ``prefix_regions`` (the
number of distinct patterns of layers ``1..l``) needs a global distinct count:
the layer prefixes of each counted region travel to the owners of the
prefixes too (same hash), and the driver sums the sizes of the owners' sets.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..lp import LPCounters
from ..network import ReLUNetwork
from ..tolerances import Tolerances
from .certify import DecisionStats
from .domain import Domain
from .outcome import Counted, PendingRegion, RegionWork, Unresolved
from .packing import pack_works
from .processor import BATCH, RegionProcessor

__all__ = [
    "SearchSetup",
    "CandidateBatch",
    "Outbox",
    "PartitionState",
    "RoundReport",
    "owner_of",
    "owners",
    "pack_signs",
    "unpack_signs",
    "pack_candidates",
    "unpack_candidates",
    "initial_states",
    "run_round",
    "finish_partition",
]


@dataclass(frozen=True)
class SearchSetup:
    """Everything a partition needs besides its state (the same for every round of one search)."""

    token: str
    net: ReLUNetwork
    domain: Domain
    tol: Tolerances
    method: str
    compute_bounded: bool
    backend: Any
    partitions: int
    keep_regions: bool
    shards_dir: str | None = None
    shard_size: int = 10_000


@dataclass(frozen=True)
class CandidateBatch:
    """Pending regions packed for a trip: ``keys`` ``(n, ceil(N/8))`` uint8 bits, ``hints`` ``(n, 3 d)`` floats.

    A hint row is [facet point | facet normal | guess], ``nan`` where absent
    (the layout of :class:`~.parallel.PackedItems`).
    """

    keys: NDArray[np.uint8]
    hints: NDArray[np.float64]

    @property
    def nbytes(self) -> int:
        """Bytes of payload (the two arrays; pickling adds about 300 bytes per batch)."""
        return int(self.keys.nbytes + self.hints.nbytes)

    def __len__(self) -> int:
        return int(self.keys.shape[0])


@dataclass(frozen=True)
class Outbox:
    """What one partition sends to another in one round: candidates, and layer prefixes (streaming only)."""

    candidates: CandidateBatch | None
    prefixes: tuple[NDArray[np.uint8], ...] = ()

    @property
    def nbytes(self) -> int:
        return (0 if self.candidates is None else self.candidates.nbytes) + sum(int(a.nbytes) for a in self.prefixes)


@dataclass
class PartitionState:
    """A partition's share of the search: the patterns it owns that were queued, and its pending regions.

    Treated as immutable by :func:`run_round` (each round returns a new one).
    """

    seen: set[bytes]
    queue: CandidateBatch
    prefixes: tuple[set[bytes], ...] = ()
    shard_buffer: tuple[dict[str, NDArray[Any]], ...] = ()
    n_shards: int = 0


@dataclass
class RoundReport:
    """A partition's summary of one round, for the driver (small unless regions are kept)."""

    partition: int
    processed: int = 0
    counted: int = 0
    queued: int = 0
    sent: int = 0
    sent_bytes: int = 0
    messages: int = 0
    prefixes_sent: int = 0
    kept_local: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    process: str = ""
    works: dict[str, Any] | None = None
    undecided: list[Unresolved] = field(default_factory=list)
    counters: LPCounters = field(default_factory=LPCounters)
    stats: DecisionStats = field(default_factory=DecisionStats)
    # Streaming statistics (keep_regions=False); prefix_sizes are absolute (the owned prefix sets' sizes).
    n_bounded: int | None = 0
    thin: list[NDArray[np.int8]] = field(default_factory=list)
    min_margin: float | None = None
    active_sum: NDArray[np.int64] | None = None
    any_active: NDArray[np.bool_] | None = None
    all_active: NDArray[np.bool_] | None = None
    prefix_sizes: tuple[int, ...] = ()


def owner_of(key: bytes, partitions: int) -> int:
    """The owning partition of one packed pattern: its 64-bit BLAKE2b digest (little-endian) mod ``partitions``.

    Stable across processes, machines and Python versions (unlike the salted ``hash``).
    """
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little") % partitions


def owners(keys: NDArray[np.uint8], partitions: int) -> NDArray[np.int64]:
    """:func:`owner_of` of each row of ``keys`` (packed patterns)."""
    return np.array([owner_of(k.tobytes(), partitions) for k in keys], dtype=np.int64)


def pack_signs(signs: NDArray[np.int8]) -> NDArray[np.uint8]:
    """Patterns ``(n, N)`` of +-1 as bits ``(n, ceil(N/8))`` (1 = active)."""
    if np.any(signs == 0):
        raise ValueError("a pattern to pack has a zero sign; patterns are +1/-1 only.")
    return np.packbits(signs > 0, axis=1)


def unpack_signs(keys: NDArray[np.uint8], n_units: int) -> NDArray[np.int8]:
    """The inverse of :func:`pack_signs`."""
    bits = np.unpackbits(keys, axis=1, count=n_units).astype(np.int8)
    return bits * 2 - 1


def pack_candidates(items: list[PendingRegion], d: int) -> CandidateBatch:
    """Pending regions as a :class:`CandidateBatch`."""
    if not items:
        return CandidateBatch(np.zeros((0, 0), dtype=np.uint8), np.zeros((0, 3 * d)))
    S = np.stack([it.signs for it in items])
    F = np.full((len(items), 3 * d), np.nan)
    for i, it in enumerate(items):
        for j, v in enumerate((it.facet_point, it.normal, it.guess)):
            if v is not None:
                F[i, j * d : (j + 1) * d] = v
    return CandidateBatch(pack_signs(S), F)


def unpack_candidates(batch: CandidateBatch, n_units: int, d: int) -> list[PendingRegion]:
    """The pending regions of ``batch`` (in order)."""
    if not len(batch):
        return []
    S = unpack_signs(batch.keys, n_units)
    out = []
    for i in range(S.shape[0]):
        row = batch.hints[i]
        parts = [None if np.isnan(row[j * d]) else row[j * d : (j + 1) * d].copy() for j in range(3)]
        out.append(PendingRegion(S[i], parts[0], parts[1], parts[2]))
    return out


def _concat(batches: list[CandidateBatch], nb: int, d: int) -> CandidateBatch:
    batches = [b for b in batches if len(b)]
    if not batches:
        return CandidateBatch(np.zeros((0, nb), dtype=np.uint8), np.zeros((0, 3 * d)))
    if len(batches) == 1:
        return batches[0]
    return CandidateBatch(np.concatenate([b.keys for b in batches]), np.concatenate([b.hints for b in batches]))


def initial_states(
    setup: SearchSetup,
    queue: list[PendingRegion],
    seen: list[bytes] | set[bytes],
    prefixes: list[NDArray[np.uint8]] | None = None,
) -> list[PartitionState]:
    """The partitions' states for a search starting from ``queue`` with ``seen`` (int8 pattern bytes) queued.

    ``prefixes`` (streaming, on resume): the distinct packed layer prefixes found so far, per layer.
    """
    W, d = setup.partitions, setup.domain.dim
    n_units = sum(setup.net.hidden_widths)
    nb = (n_units + 7) // 8
    n_pre = len(setup.net.hidden_widths) - 1 if not setup.keep_regions else 0
    seen_keys = (
        pack_signs(np.frombuffer(b"".join(seen), dtype=np.int8).reshape(-1, n_units))
        if seen
        else np.zeros((0, nb), dtype=np.uint8)
    )
    own = owners(seen_keys, W)
    shares: list[set[bytes]] = [set() for _ in range(W)]
    for k, o in zip(seen_keys, own.tolist(), strict=True):
        shares[o].add(k.tobytes())
    batch = pack_candidates(queue, d)
    qown = owners(batch.keys, W) if len(batch) else np.zeros(0, dtype=np.int64)
    pre_shares: list[list[set[bytes]]] = [[set() for _ in range(n_pre)] for _ in range(W)]
    for l, arr in enumerate((prefixes or [])[:n_pre]):
        for k, o in zip(arr, owners(arr, W).tolist(), strict=True):
            pre_shares[o][l].add(k.tobytes())
    out = []
    for p in range(W):
        sel = qown == p
        q = CandidateBatch(batch.keys[sel], batch.hints[sel]) if len(batch) else _concat([], nb, d)
        out.append(PartitionState(shares[p], q, tuple(pre_shares[p])))
    return out


# One processor per worker thread and search (HiGHS instances stay warm between rounds); newest search only.
_PROCESSORS: dict[tuple[str, int], RegionProcessor] = {}
_LOCK = threading.Lock()


def _processor(setup: SearchSetup) -> RegionProcessor:
    key = (setup.token, threading.get_ident())
    with _LOCK:
        proc = _PROCESSORS.get(key)
        if proc is None:
            for k in [k for k in _PROCESSORS if k[0] != setup.token]:
                del _PROCESSORS[k]
            proc = RegionProcessor(
                setup.net, setup.domain, setup.tol, setup.method, setup.compute_bounded, setup.backend
            )
            _PROCESSORS[key] = proc
    return proc


def run_round(
    setup: SearchSetup, partition: int, cap: int, state: PartitionState, incoming: list[Outbox | None]
) -> tuple[Any, ...]:
    """One round of one partition: ``(new state, RoundReport, outbox for partition 0, ..., for W-1)``.

    Pure: ``state`` and ``incoming`` are not changed (Dask may re-run the task).
    """
    t0, c0 = time.perf_counter(), time.thread_time()
    W, d, p = setup.partitions, setup.domain.dim, partition
    n_units = sum(setup.net.hidden_widths)
    nb = (n_units + 7) // 8
    offsets = setup.net.layer_offsets
    seen = set(state.seen)
    prefixes = tuple(set(s) for s in state.prefixes)
    rep = RoundReport(p, process=f"{socket.gethostname()}:{os.getpid()}")
    # 1. The candidates sent to this partition, unseen ones queued (sender order, then position).
    fresh: list[CandidateBatch] = [state.queue]
    for box in incoming:
        if box is None:
            continue
        for l, arr in enumerate(box.prefixes):
            prefixes[l].update(r.tobytes() for r in arr)
        b = box.candidates
        if b is None:
            continue
        keep = []
        for i, k in enumerate(b.keys):
            kb = k.tobytes()
            if kb not in seen:
                seen.add(kb)
                keep.append(i)
        if keep:
            fresh.append(CandidateBatch(b.keys[keep], b.hints[keep]))
    queue = _concat(fresh, nb, d)
    # 2. Up to `cap` regions from the front of the queue, by the serial search's processor; the
    # neighbours this partition owns join the queue at once (so one round may go several levels deep).
    take = min(cap, len(queue))
    todo = deque(unpack_candidates(CandidateBatch(queue.keys[:take], queue.hints[:take]), n_units, d))
    proc = _processor(setup)
    proc.counters = LPCounters()
    proc.cert.stats = DecisionStats()
    works: list[RegionWork] = []
    remote: list[PendingRegion] = []
    remote_keys: set[bytes] = set()
    processed = 0
    while todo and processed < cap:
        # The front of the queue in one batch, as the serial search batches (the same outcomes, in
        # order); the neighbours found join the back, so the order of processing is unchanged.
        k = min(len(todo), BATCH, cap - processed)
        dones = proc.process_batch([todo.popleft() for _ in range(k)])
        processed += k
        for done in dones:
            if isinstance(done.outcome, Counted):
                works.append(done.outcome.work)
            elif isinstance(done.outcome, Unresolved):
                rep.undecided.append(done.outcome)
            if not done.neighbors:
                continue
            nbs = done.neighbors
            keys = pack_signs(np.stack([nb_.signs for nb_ in nbs]))
            for nb_, key in zip(nbs, keys, strict=True):
                kb = key.tobytes()
                if owner_of(kb, W) == p:
                    if kb not in seen:
                        seen.add(kb)
                        todo.append(nb_)
                        rep.kept_local += 1
                elif kb not in remote_keys:  # each pattern sent once per round (the owner dedups across rounds)
                    remote_keys.add(kb)
                    remote.append(nb_)
    # What is left: the queue's rows not taken, then the new local neighbours not processed (FIFO).
    rest = CandidateBatch(queue.keys[take:], queue.hints[take:])
    new_queue = _concat([rest, pack_candidates(list(todo), d) if todo else _concat([], nb, d)], nb, d)
    # 3. Outboxes: the other owners' candidates, and (streaming) the layer prefixes of the counted regions.
    boxes: list[list[PendingRegion]] = [[] for _ in range(W)]
    if remote:
        rkeys = pack_signs(np.stack([r.signs for r in remote]))
        for r, o in zip(remote, owners(rkeys, W).tolist(), strict=True):
            boxes[o].append(r)
    pre_out: list[list[list[NDArray[np.uint8]]]] = [[[] for _ in prefixes] for _ in range(W)]
    if works and prefixes:
        S = np.stack([w.signs for w in works])
        for l in range(len(prefixes)):
            pk = pack_signs(S[:, : offsets[l + 1]])
            for k, o in zip(pk, owners(pk, W).tolist(), strict=True):
                if o == p:
                    prefixes[l].add(k.tobytes())
                else:
                    pre_out[o][l].append(k)
    outboxes: list[Outbox | None] = []
    for q in range(W):
        pre = tuple(np.stack(a) if a else np.zeros((0, 0), dtype=np.uint8) for a in pre_out[q])
        n_pre = sum(a.shape[0] for a in pre)
        if not boxes[q] and not n_pre:
            outboxes.append(None)
            continue
        box = Outbox(pack_candidates(boxes[q], d) if boxes[q] else None, pre if n_pre else ())
        outboxes.append(box)
        rep.sent += len(boxes[q])
        rep.prefixes_sent += n_pre
        rep.sent_bytes += box.nbytes
        rep.messages += 1
    # 4. The report: counts and statistics; the regions themselves only when they are kept.
    rep.processed, rep.counted, rep.queued = processed, len(works), len(new_queue)
    rep.counters, rep.stats = proc.counters, proc.cert.stats
    buffer = state.shard_buffer
    n_shards = state.n_shards
    if setup.keep_regions:
        rep.works = pack_works(works)
    else:
        _stream_stats(rep, works, n_units)
        rep.prefix_sizes = tuple(len(s) for s in prefixes)
        if setup.shards_dir is not None and works:
            buffer = (*buffer, _shard_rows(works))
            if sum(len(b["margin"]) for b in buffer) >= setup.shard_size:
                _write_shard(setup, p, n_shards, buffer)
                buffer, n_shards = (), n_shards + 1
    new_state = PartitionState(seen, new_queue, prefixes, buffer, n_shards)
    rep.seconds, rep.cpu_seconds = time.perf_counter() - t0, time.thread_time() - c0
    return (new_state, rep, *outboxes)


def _stream_stats(rep: RoundReport, works: list[RegionWork], n_units: int) -> None:
    rep.active_sum = np.zeros(n_units, dtype=np.int64)
    rep.any_active = np.zeros(n_units, dtype=bool)
    rep.all_active = np.ones(n_units, dtype=bool)
    for w in works:
        if w.bounded is None:
            rep.n_bounded = None
        elif rep.n_bounded is not None:
            rep.n_bounded += int(bool(w.bounded))
        if w.thin:
            rep.thin.append(w.signs.copy())
        rep.min_margin = w.margin if rep.min_margin is None else min(rep.min_margin, w.margin)
        act = w.signs > 0
        rep.active_sum += act
        rep.any_active |= act
        rep.all_active &= act


def _shard_rows(works: list[RegionWork]) -> dict[str, NDArray[Any]]:
    return {
        "signs": np.stack([w.signs for w in works]).astype(np.int8),
        "witness": np.stack([w.witness for w in works]),
        "margin": np.array([w.margin for w in works]),
        "bounded": np.array([-1 if w.bounded is None else int(bool(w.bounded)) for w in works], dtype=np.int8),
        "thin": np.array([w.thin for w in works], dtype=bool),
    }


def _write_shard(setup: SearchSetup, partition: int, index: int, buffer: tuple[dict[str, NDArray[Any]], ...]) -> None:
    """Write one shard atomically; its name depends only on (partition, index), so a re-run overwrites it."""
    assert setup.shards_dir is not None
    folder = os.fspath(setup.shards_dir)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"regions-p{partition:04d}-{index:05d}.npz")
    tmp = path[: -len(".npz")] + ".tmp.npz"
    arrays: dict[str, Any] = {k: np.concatenate([b[k] for b in buffer]) for k in buffer[0]}
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def finish_partition(setup: SearchSetup, partition: int, state: PartitionState) -> int:
    """Write the partition's last shard (if any); the number of shards it wrote."""
    if setup.shards_dir is None or not state.shard_buffer:
        return state.n_shards
    _write_shard(setup, partition, state.n_shards, state.shard_buffer)
    return state.n_shards + 1
