"""The 1-D exact scan spread over processes or a Dask cluster (``method="scan"`` with ``n_jobs`` / ``client``).

The line (the domain of a one-input network) is cut at a few split points
into stretches (*chunks*); each chunk is walked exactly by
:func:`~.scan1d.walk_line_regions` restricted to it, in any process, and the
chunks' intervals are joined left to right: at a split point ``s`` the last
interval of the chunk on the left and the first one of the chunk on the right
are one region iff their patterns are equal (a pattern's region is convex, so
it meets the line in one interval), otherwise ``s`` is a breakpoint and they
are neighbours.  Every end is an exact rational, so the joined intervals are
exactly the serial walk's, and :func:`serial_order` puts them in the serial
walk's order (the start region, those to its right, those to its left): the
result equals the serial scan's, witnesses and edges included.

Why it pays: the walk costs one exact integer composition of the network per
region, which grows with the width (measured on this 2-core machine at load
about 2: 1.1 ms per region on 1->[20,20], 7 ms on 1->[64,64,64], 48 ms on
1->[256,256]; see ``benchmarks/bench_parallel.py --scan``), while a forked
worker costs a few milliseconds.  Tiny scans stay in the calling process: the
workers start only once the caller has walked for ``start_after`` seconds
(``RegionEnumeration.processes`` says how many took part).

Split points: the first layer's breakpoints ``-b_j / w_j`` inside the domain
(quantiles of them) together with an even grid of their range, so both
clustered and evenly spread breakpoints give several chunks; chunks are
handed out one at a time, so an uneven split costs little.

``max_regions`` asks for the walk's first regions in its order, which the
chunks cannot give without walking everything: such a scan runs serially,
and says so in the log and in ``res.decisions["scan_chunks"] == 1``.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import time
from collections import deque
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import numpy as np

from ..network import ReLUNetwork
from ..tolerances import Tolerances
from .budget import Budget
from .domain import Domain
from .scan1d import LinePiece, walk_line_regions

__all__ = [
    "ScanChunk",
    "ChunkResult",
    "ScanRun",
    "split_line",
    "walk_chunk",
    "join_chunks",
    "serial_order",
    "scan_chunks",
]

logger = logging.getLogger(__name__)

# Chunks per process: enough for the dynamic hand-out to even out an uneven split.
_CHUNKS_PER_PROCESS = 4
# Seconds the caller walks alone before it starts the workers (a fork costs a few ms; a small
# scan is over before then and stays serial).
_START_AFTER = 0.2
# Seconds between a worker's checks that its parent is still alive while it waits.
_PARENT_POLL = 1.0


@dataclass(frozen=True)
class ScanChunk:
    """The stretch ``(lo, hi)`` of the line (``-inf`` / ``inf`` allowed), number ``index`` from the left."""

    index: int
    lo: float
    hi: float


@dataclass(frozen=True)
class ChunkResult:
    """The regions met by one chunk, left to right, clipped to it; ``process`` is ``host:pid`` of the walker."""

    index: int
    pieces: list[LinePiece]
    process: str


@dataclass(frozen=True)
class ScanRun:
    """What :func:`scan_chunks` did: the finished chunks (all of them when ``complete``) out of ``n_chunks``.

    ``message`` says why it stopped early; ``processes`` are the walkers (``host:pid``).
    """

    results: list[ChunkResult]
    n_chunks: int
    complete: bool
    message: str
    processes: set[str]


@dataclass(frozen=True)
class _ChunkFailed:
    """A worker's chunk raised: the caller re-raises ``error``."""

    error: BaseException


def split_line(net: ReLUNetwork, lo: float, hi: float, chunks: int) -> list[ScanChunk]:
    """Cut ``(lo, hi)`` into at most ``2 * chunks - 1`` chunks at float split points strictly inside it.

    The split points are quantiles of the first layer's breakpoints in ``(lo, hi)``
    (each taken halfway between two consecutive distinct breakpoints) and an
    even grid over their range (or over the domain when it is bounded).  Any
    split point is correct; these aim at even work.
    """
    if chunks <= 1:
        return [ScanChunk(0, lo, hi)]
    W, b = net.weights[0][:, 0], net.biases[0]
    nz = W != 0
    roots = np.unique(-b[nz] / W[nz])
    roots = roots[(roots > lo) & (roots < hi) & np.isfinite(roots)]
    points: set[float] = set()
    if roots.size >= 2:
        for q in np.linspace(0, roots.size - 1, chunks + 1)[1:-1]:
            i = min(int(q), roots.size - 2)
            points.add(float((roots[i] + roots[i + 1]) / 2))
    a = lo if math.isfinite(lo) else (float(roots[0]) if roots.size else -1.0)
    z = hi if math.isfinite(hi) else (float(roots[-1]) if roots.size else 1.0)
    if z > a:
        points.update(float(v) for v in np.linspace(a, z, chunks + 1)[1:-1])
    cuts = sorted(p for p in points if lo < p < hi and math.isfinite(p))
    ends = [lo, *cuts, hi]
    return [ScanChunk(i, ends[i], ends[i + 1]) for i in range(len(ends) - 1)]


def _chunk_start(net: ReLUNetwork, chunk: ScanChunk, tol: Tolerances) -> float:
    """A point of the chunk on no hyperplane (decided exactly by the search's start-point rule)."""
    from .search import start_point  # the serial search's rule, so a chunk start is as certain as the search's

    a, z = chunk.lo, chunk.hi
    if not math.isfinite(a) and not math.isfinite(z):
        a, z = -1.0, 1.0
    elif not math.isfinite(a):
        a = z - 1.0
    elif not math.isfinite(z):
        z = a + 1.0
    x, _ = start_point(net, Domain.box(a, z, dim=1, tol=tol), tol, 0)
    return float(x[0])


def walk_chunk(net: ReLUNetwork, chunk: ScanChunk, tol: Tolerances, parent: int | None = None) -> ChunkResult:
    """Walk one chunk exactly; its intervals left to right.

    ``parent``: a process id; the walk ends this process if its parent is no
    longer it (a worker whose caller died).
    """
    pieces = []
    for piece in walk_line_regions(net, chunk.lo, chunk.hi, _chunk_start(net, chunk, tol)):
        pieces.append(piece)
        if parent is not None and os.getppid() != parent:
            os._exit(0)
    pieces.sort(key=lambda p: (p.lo is not None, p.lo if p.lo is not None else 0))
    return ChunkResult(chunk.index, pieces, f"{socket.gethostname()}:{os.getpid()}")


def join_chunks(results: list[ChunkResult]) -> list[LinePiece]:
    """The regions of consecutive chunks, left to right, joined at the split points (see the module docstring).

    Raises
    ------
    ArithmeticError
        If two consecutive chunks do not meet at one point (a bug, not an input error).
    """
    out: list[LinePiece] = []
    for res in sorted(results, key=lambda r: r.index):
        for k, piece in enumerate(res.pieces):
            if k == 0 and out:
                prev = out[-1]
                if prev.hi is None or piece.lo is None or prev.hi != piece.lo:
                    raise ArithmeticError("two chunks of the 1-D scan do not meet; please report this.")
                if np.array_equal(prev.signs, piece.signs):
                    out[-1] = LinePiece(prev.signs, prev.lo, piece.hi, prev.left, piece.right)
                    continue
                out[-1] = replace(prev, right=piece.signs)
                piece = replace(piece, left=prev.signs)
            out.append(piece)
    return out


def serial_order(pieces: list[LinePiece], start: float) -> list[LinePiece]:
    """Left-to-right ``pieces`` in the serial walk's order: the one containing ``start``, then right, then left."""
    x = Fraction(start)
    for i, p in enumerate(pieces):
        if (p.lo is None or p.lo < x) and (p.hi is None or x < p.hi):
            return [p, *pieces[i + 1 :], *reversed(pieces[:i])]
    raise ArithmeticError("no interval of the 1-D scan contains its start point; please report this.")


def scan_chunks(
    net: ReLUNetwork,
    lo: float,
    hi: float,
    tol: Tolerances,
    *,
    budget: Budget,
    n_jobs: int = 1,
    client: Any = None,
    start_after: float | None = None,
) -> ScanRun:
    """Walk every chunk of ``(lo, hi)`` in this process and ``n_jobs - 1`` forked workers, or on ``client``.

    The budget (time limit, callback) is asked between
    intervals; ``max_regions`` is the caller's business (see the module docstring).
    ``start_after`` (default ``_START_AFTER``): seconds this process walks alone
    before it starts the workers.
    """
    workers = max(1, sum(client.nthreads().values())) if client is not None else n_jobs
    chunks = split_line(net, lo, hi, _CHUNKS_PER_PROCESS * workers)
    if client is not None:
        return _on_dask(net, chunks, tol, budget, client)
    return _local(net, chunks, tol, budget, n_jobs, _START_AFTER if start_after is None else start_after)


def _stop(budget: Budget, results: dict[int, ChunkResult], pending: int) -> str | None:
    return budget.stop_reason(sum(len(r.pieces) for r in results.values()), pending, 0)


def _local(
    net: ReLUNetwork, chunks: list[ScanChunk], tol: Tolerances, budget: Budget, n_jobs: int, start_after: float
) -> ScanRun:
    import multiprocessing as mp
    from multiprocessing.connection import wait

    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    todo = deque(chunks)
    results: dict[int, ChunkResult] = {}
    busy: dict[Any, ScanChunk | None] = {}  # worker connection -> its chunk (None: idle)
    procs: list[Any] = []
    me = f"{socket.gethostname()}:{os.getpid()}"
    t0 = time.perf_counter()

    def start_workers() -> None:
        for _ in range(n_jobs - 1):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=_worker_main, args=(child, net, tol), daemon=True)
            p.start()
            child.close()
            procs.append(p)
            busy[parent] = None
        budget.workers = n_jobs

    def hand_out() -> None:
        for c, job in busy.items():
            if job is None and todo:
                busy[c] = todo.popleft()
                c.send(busy[c])

    def collect(timeout: float) -> None:
        ready: list[Any] = wait([c for c, job in busy.items() if job is not None], timeout=timeout)
        for c in ready:
            try:
                reply: ChunkResult | _ChunkFailed = c.recv()
            except (EOFError, OSError):
                raise RuntimeError("a worker process of the 1-D scan ended unexpectedly.") from None
            if isinstance(reply, _ChunkFailed):
                raise reply.error
            results[reply.index] = reply
            busy[c] = None

    try:
        while todo or any(job is not None for job in busy.values()):
            if todo:  # the caller walks the chunks from the right end, the workers from the left
                chunk = todo.pop()
                pieces = []
                walk = walk_line_regions(net, chunk.lo, chunk.hi, _chunk_start(net, chunk, tol))
                for piece in walk:
                    pieces.append(piece)
                    if not procs and n_jobs > 1 and todo and time.perf_counter() - t0 > start_after:
                        start_workers()
                    if busy:
                        collect(0)
                        hand_out()
                    reason = _stop(budget, results, len(todo) + 1)
                    if reason is not None:
                        return ScanRun(list(results.values()), len(chunks), False, reason, _walkers(results, me))
                pieces.sort(key=lambda p: (p.lo is not None, p.lo if p.lo is not None else 0))
                results[chunk.index] = ChunkResult(chunk.index, pieces, me)
                if busy:
                    collect(0)
                    hand_out()
            else:
                collect(0.25)
                hand_out()
                reason = _stop(budget, results, sum(job is not None for job in busy.values()))
                if reason is not None:
                    return ScanRun(list(results.values()), len(chunks), False, reason, _walkers(results, me))
        return ScanRun(list(results.values()), len(chunks), True, "", _walkers(results, me))
    finally:
        for c in busy:
            try:
                c.send(None)
            except (BrokenPipeError, OSError):
                pass
            c.close()
        for p in procs:
            p.join(timeout=1.0)
            if p.is_alive():
                p.terminate()
                p.join()
        budget.workers = 1


def _walkers(results: dict[int, ChunkResult], me: str) -> set[str]:
    return {r.process for r in results.values()} or {me}


def _worker_main(conn: Any, net: ReLUNetwork, tol: Tolerances) -> None:
    """Worker process: walk the chunks it is sent until told to stop (or its parent is gone)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the caller decides what Ctrl-C does
    parent = os.getppid()
    while True:
        while not conn.poll(_PARENT_POLL):
            if os.getppid() != parent:
                os._exit(0)
        try:
            chunk = conn.recv()
        except (EOFError, OSError):
            os._exit(0)
        if chunk is None:
            return
        try:
            reply: ChunkResult | _ChunkFailed = walk_chunk(net, chunk, tol, parent)
        except Exception as exc:  # noqa: BLE001 - sent to the caller, which re-raises it
            reply = _ChunkFailed(exc)
        conn.send(reply)


def _on_dask(net: ReLUNetwork, chunks: list[ScanChunk], tol: Tolerances, budget: Budget, client: Any) -> ScanRun:
    from distributed import as_completed

    net_f = client.scatter(net, broadcast=True)
    futures = client.map(walk_chunk, [net_f] * len(chunks), chunks, [tol] * len(chunks), pure=False)
    budget.workers = len(client.nthreads())
    results: dict[int, ChunkResult] = {}
    try:
        for fut in as_completed(futures):
            r: ChunkResult = fut.result()
            results[r.index] = r
            reason = _stop(budget, results, len(chunks) - len(results))
            if reason is not None and len(results) < len(chunks):
                return ScanRun(
                    list(results.values()), len(chunks), False, reason, {x.process for x in results.values()}
                )
        return ScanRun(list(results.values()), len(chunks), True, "", {x.process for x in results.values()})
    finally:
        client.cancel(futures)
        budget.workers = 1
