"""The serial breadth-first search over the dual graph of the regions.

The search keeps a queue of :class:`~.outcome.PendingRegion` and the set of
patterns seen; :class:`~.processor.RegionProcessor` decides each pending
region and returns its neighbours.  The work sharing (:mod:`.parallel`)
uses the same pieces: :func:`start_point`, :func:`record`,
:func:`enqueue_new` and :class:`SearchOut`.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import InvalidDomainError
from ..lp import LPCounters
from ..lp.exact import RationalVector
from ..network import ReLUNetwork
from ..tolerances import Tolerances
from .budget import Budget
from .certify import Certifier, DecisionStats
from .checkpoint import Checkpointer, SearchSnapshot
from .domain import Domain
from .exact import ExactNet, strictly_inside
from .outcome import Counted, Outcome, PendingRegion, RegionWork, Unresolved
from .pattern import ActivationPattern
from .processor import BATCH, RegionProcessor
from .result import RegionCollector
from .stream import StreamingCollector, n_collected

__all__ = ["SearchOut", "start_point", "record", "enqueue_new", "search", "begin", "snapshot"]

logger = logging.getLogger(__name__)

# Attempts at a start point off every hyperplane (the domain centre first, then seeded perturbations).
_START_ATTEMPTS = 200


@dataclass
class SearchOut:
    """What a search produced: the collected result and how the search ended."""

    collector: RegionCollector
    undecided: list[NDArray[np.int8]] = field(default_factory=list)
    counters: LPCounters = field(default_factory=LPCounters)
    stats: DecisionStats = field(default_factory=DecisionStats)
    complete: bool = True
    message: str = "complete"
    method: str = "vertex"
    processes: int = 1
    # The counted regions in the order they were counted (kept only when checkpointing).
    journal: list[RegionWork] | None = None


def start_point(
    net: ReLUNetwork, domain: Domain, tol: Tolerances, seed: int
) -> tuple[NDArray[np.float64], ActivationPattern]:
    """A point strictly inside the domain and off every hyperplane, decided exactly, and its pattern.

    The point's region is therefore proved nonempty (the point is in its
    interior).  The domain centre is tried first, then seeded perturbations.
    A unit that is exactly 0 at the point counts as off its hyperplane only if
    its gradient there is exactly zero (a dead unit, inactive).

    Each candidate is first tried in floats: the pattern read by a float forward
    pass is proved when every row of its region clears its rigorous error bound
    at the point (:meth:`~.certify.CertifiedRows.witness_certain`, the test that
    certifies the search's witnesses).  Only a candidate the floats cannot
    settle is decided in integers, so the exact network is built only then.
    """
    rng = np.random.default_rng(seed)
    cert = Certifier(net, domain, tol, "highs")  # rows and float certificates only: no LP is opened
    exnet: ExactNet | None = None
    d = domain.dim
    x = domain.center.copy()
    scale = domain.radius if np.isfinite(domain.radius) else 1.0
    for attempt in range(_START_ATTEMPTS):
        signs = _float_signs(net, x)
        cr = cert.rows(signs)
        if cr.rows.consistent and cr.witness_certain(x):
            return x, ActivationPattern(signs, net.hidden_widths)
        xr = RationalVector.from_floats(x)
        if strictly_inside(cert.dom_rows, xr):
            exnet = ExactNet(net) if exnet is None else exnet
            s, R = exnet.forward_signs(xr)
            on_plane = [k for k in np.flatnonzero(s == 0).tolist() if any(v != 0 for v in R[k, :d].tolist())]
            if not on_plane:
                return x, ActivationPattern(np.where(s > 0, 1, -1).astype(np.int8), net.hidden_widths)
        x = domain.center + rng.uniform(-0.5, 0.5, size=d) * scale * min(1.0, 0.01 * (attempt + 1))
    raise InvalidDomainError("could not find a start point off every hyperplane inside the domain.")


def _float_signs(net: ReLUNetwork, x: NDArray[np.float64]) -> NDArray[np.int8]:
    """The hidden units' signs at ``x`` by a float forward pass (``+1`` iff the pre-activation is > 0)."""
    a = x
    out = []
    for W, b in zip(net.weights[: net.n_hidden_layers], net.biases[: net.n_hidden_layers], strict=True):
        z = W @ a + b
        out.append(z)
        a = np.maximum(z, 0.0)
    return np.where(np.concatenate(out) > 0, 1, -1).astype(np.int8)


def record(out: SearchOut, outcome: Outcome) -> bool:
    """Store one outcome in the result; True if it was a counted region."""
    if isinstance(outcome, Counted):
        out.collector.add(outcome.work)
        if out.journal is not None:
            out.journal.append(outcome.work)
        return True
    if isinstance(outcome, Unresolved):
        # No decision: never guess, mark the result incomplete.
        out.undecided.append(outcome.signs)
        out.complete = False
        out.message = f"a pattern stayed undecided ({outcome.status.value}); the count is a lower bound"
    return False


def enqueue_new(neighbors: Iterable[PendingRegion], seen: set[bytes], queue: Any) -> None:
    """Append the neighbours whose pattern is not in ``seen`` to ``queue`` (and mark them seen)."""
    for nb in neighbors:
        key = nb.key
        if key not in seen:
            seen.add(key)
            queue.append(nb)


def begin(
    out: SearchOut,
    start: tuple[NDArray[np.float64], ActivationPattern],
    resume: SearchSnapshot | None,
    checkpointer: Checkpointer | None,
) -> tuple[deque[PendingRegion], set[bytes]]:
    """The queue and the seen set a search starts from: the start region, or a resumed snapshot.

    A resumed snapshot's regions go into the result in their original order
    (so the graph is the same) and its counters are added to the search's.
    """
    if checkpointer is not None and not isinstance(out.collector, StreamingCollector):
        out.journal = []  # a streaming search checkpoints its collector's statistics instead
    if resume is None:
        x0, p0 = start
        return deque([PendingRegion(np.array(p0.signs), guess=x0)]), {p0.key}
    for w in resume.works:
        out.collector.add(w)
    if out.journal is not None:
        out.journal.extend(resume.works)
    if resume.undecided:
        out.undecided = list(resume.undecided)
        out.complete = False
        out.message = "a pattern stayed undecided before the checkpoint; the count is a lower bound"
    out.counters.merge(resume.counters)
    out.stats.merge(resume.stats)
    if checkpointer is not None:
        checkpointer.adopt(resume, out.collector.domain.dim if out.collector.domain is not None else 0)
    return deque(resume.queue), set(resume.seen)


def snapshot(out: SearchOut, queue: Iterable[PendingRegion], seen: set[bytes], seconds: float) -> SearchSnapshot:
    """The search's state now (``queue`` includes any region handed out but not answered).

    A streaming search (``keep_regions=False``) holds its collector's statistics instead of the regions.
    """
    if isinstance(out.collector, StreamingCollector):
        stream = out.collector.snapshot()
        return SearchSnapshot(deque(queue), seen, [], out.undecided, out.counters, out.stats, seconds, stream)
    assert out.journal is not None
    return SearchSnapshot(deque(queue), seen, out.journal, out.undecided, out.counters, out.stats, seconds)


def search(
    net: ReLUNetwork,
    domain: Domain,
    tol: Tolerances,
    *,
    method: str,
    start: tuple[NDArray[np.float64], ActivationPattern],
    budget: Budget,
    compute_bounded: bool,
    backend: Any = "highs",
    resume: SearchSnapshot | None = None,
    checkpointer: Checkpointer | None = None,
    collector: RegionCollector | None = None,
) -> SearchOut:
    """Serial breadth-first search over the dual graph inside ``domain``.

    With ``resume`` it goes on from a checkpoint's snapshot; with
    ``checkpointer`` it writes its state every few seconds and once at the end.
    """
    out = SearchOut(collector or RegionCollector(net.hidden_widths, domain), method=method)
    proc = RegionProcessor(net, domain, tol, method, compute_bounded, backend)
    out.counters = proc.counters
    out.stats = proc.cert.stats
    queue, seen = begin(out, start, resume, checkpointer)
    n_regions = n_collected(out.collector)
    try:
        while queue:
            reason = budget.stop_reason(n_regions, len(queue), out.counters.solves)
            if reason is not None:
                out.complete, out.message = False, reason
                break
            # The next few pending regions in one batch (the processor batches their certificates),
            # never more than max_regions could still count; they leave the queue only once processed.
            k = min(len(queue), BATCH)
            if budget.max_regions is not None:
                k = min(k, budget.max_regions - n_regions)
            done = proc.process_batch([queue[i] for i in range(k)])
            for _ in range(k):
                queue.popleft()
            for one in done:
                n_regions += record(out, one.outcome)
                enqueue_new(one.neighbors, seen, queue)
            if checkpointer is not None and checkpointer.due():
                checkpointer.write(snapshot(out, queue, seen, budget.elapsed()), domain.dim)
    finally:
        # Also on an exception (a second Ctrl-C, say): the last consistent state is kept.
        if checkpointer is not None:
            checkpointer.write(snapshot(out, queue, seen, budget.elapsed()), domain.dim)
    return out
