"""Batched proofs of the polar hull's answers: every region gets the answer it gets alone."""

from __future__ import annotations

from collections import deque

import numpy as np

from lpengine import DEFAULT_TOLERANCES, ReLUNetwork
from lpengine.regions.domain import Domain
from lpengine.regions.processor import RegionProcessor
from lpengine.regions.search import start_point


def _summary(done):
    work = getattr(done.outcome, "work", None)
    keys = tuple(nb.key for nb in done.neighbors)
    if work is None:
        return (type(done.outcome).__name__, keys)
    return (work.signs.tobytes(), tuple(work.facet_units), tuple(work.neighbor_keys), work.bounded, work.n_facets, keys)


def _pending(net: ReLUNetwork, n: int):
    """The first ``n`` pending regions of a breadth-first search over R^d, in order."""
    dom = Domain.whole_space(net.n_in)
    proc = RegionProcessor(net, dom, DEFAULT_TOLERANCES, "hybrid", True)
    x0, p0 = start_point(net, dom, DEFAULT_TOLERANCES, 0)
    from lpengine.regions.outcome import PendingRegion

    queue, seen, items = deque([PendingRegion(np.array(p0.signs), guess=x0)]), {p0.key}, []
    while queue and len(items) < n:
        item = queue.popleft()
        items.append(item)
        for nb in proc.process(item).neighbors:
            if nb.key not in seen:
                seen.add(nb.key)
                queue.append(nb)
    return items


def test_a_batch_gives_every_region_its_own_outcome() -> None:
    # Deep nets in R^3 and R^4: many regions leave the artificial box, so their proofs are batched.
    for net in (ReLUNetwork.random(3, [6, 6, 5], seed=3), ReLUNetwork.random(4, [5, 5, 5], seed=1)):
        items = _pending(net, 120)
        dom = Domain.whole_space(net.n_in)
        alone = RegionProcessor(net, dom, DEFAULT_TOLERANCES, "hybrid", True)
        batched = RegionProcessor(net, dom, DEFAULT_TOLERANCES, "hybrid", True)
        one = [_summary(alone.process(it)) for it in items]
        many = [_summary(d) for i in range(0, len(items), 32) for d in batched.process_batch(items[i : i + 32])]
        assert many == one
        assert len(one) == 120 and alone.polar_hulls == batched.polar_hulls > 0
        # Some regions of these nets are unbounded, some bounded: both kinds of proof ran in the batches.
        bounded = {s[3] for s in one if len(s) == 6}
        assert bounded == {True, False}
