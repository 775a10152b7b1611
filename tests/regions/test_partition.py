"""One partition of the owner-partitioned search: stable owners, packed candidates, pure rounds."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import numpy as np
import pytest

from lpengine import ReLUNetwork
from lpengine.regions import enumerate_regions
from lpengine.regions.domain import make_domain
from lpengine.regions.outcome import PendingRegion
from lpengine.regions.partition import (
    SearchSetup,
    initial_states,
    owners,
    pack_candidates,
    pack_signs,
    run_round,
    unpack_candidates,
    unpack_signs,
)
from lpengine.regions.search import start_point
from lpengine.tolerances import resolve_tolerances

_OWNERS_SCRIPT = (
    "import numpy as np; from lpengine.regions.partition import owners;"
    "k = np.arange(64, dtype=np.uint8).reshape(16, 4); print(owners(k, 7).tolist(), hash('salted') % 7)"
)


def test_owners_are_the_same_in_every_process():
    # Python's hash() of a str changes with PYTHONHASHSEED; the owners must not.
    outs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        res = subprocess.run(
            [sys.executable, "-c", _OWNERS_SCRIPT], capture_output=True, text=True, env=env, check=True
        )
        outs.append(res.stdout.split("]")[0])
    here = str(owners(np.arange(64, dtype=np.uint8).reshape(16, 4), 7).tolist())[:-1]
    assert outs[0] == outs[1] == here


def test_owners_spread_patterns_evenly():
    rng = np.random.default_rng(0)
    keys = pack_signs(np.where(rng.random((4000, 40)) < 0.5, 1, -1).astype(np.int8))
    counts = np.bincount(owners(keys, 4), minlength=4)
    # Binomial(4000, 1/4): mean 1000, sd 27; 6 sd either way.
    assert counts.sum() == 4000 and counts.min() > 840 and counts.max() < 1160


def test_packed_patterns_and_candidates_round_trip():
    S = np.array([[1, -1, -1, 1, 1, 1, -1, 1, -1], [-1, -1, -1, -1, -1, -1, -1, -1, 1]], dtype=np.int8)
    keys = pack_signs(S)
    assert keys.shape == (2, 2) and keys.dtype == np.uint8  # 9 units -> 2 bytes
    assert keys[0, 0] == 0b10011101 and keys[1, 1] == 0b10000000
    assert np.array_equal(unpack_signs(keys, 9), S)
    items = [
        PendingRegion(S[0], np.array([0.5, 0.25]), np.array([1.0, 0.0]), None),
        PendingRegion(S[1], guess=np.ones(2)),
    ]
    back = unpack_candidates(pack_candidates(items, 2), 9, 2)
    assert [b.key for b in back] == [it.key for it in items]
    assert np.array_equal(back[0].facet_point, [0.5, 0.25]) and back[0].guess is None
    assert back[1].facet_point is None and back[1].normal is None and np.array_equal(back[1].guess, [1.0, 1.0])
    with pytest.raises(ValueError, match="zero sign"):
        pack_signs(np.array([[1, 0, -1]], dtype=np.int8))


def test_rounds_are_pure_and_sum_to_the_serial_count():
    net = ReLUNetwork.random(2, [6, 5], seed=3)
    tol = resolve_tolerances(None)
    dom = make_domain(2, None, box=(-1, 1), tol=tol)
    x0, p0 = start_point(net, dom, tol, 0)
    W = 3
    setup = SearchSetup(uuid.uuid4().hex, net, dom, tol, "vertex", False, "highs", W, True)
    states = initial_states(setup, [PendingRegion(np.array(p0.signs), guess=x0)], {p0.key})
    assert sum(len(s.seen) for s in states) == 1 and sum(len(s.queue) for s in states) == 1
    inbox: list[list] = [[] for _ in range(W)]
    counted = 0
    for _ in range(200):
        outs = []
        for p in range(W):
            before = (set(states[p].seen), states[p].queue.keys.copy())
            out = run_round(setup, p, 4, states[p], inbox[p])
            again = run_round(setup, p, 4, states[p], inbox[p])  # a re-run (a lost worker) gives the same
            assert (set(states[p].seen), states[p].queue.keys.tobytes()) == (before[0], before[1].tobytes())
            assert out[0].seen == again[0].seen and out[1].counted == again[1].counted
            for a, b in zip(out[2:], again[2:], strict=True):
                assert (a is None) == (b is None)
                if a is not None:
                    assert a.candidates.keys.tobytes() == b.candidates.keys.tobytes()
            assert out[2 + p] is None  # nothing is sent to oneself
            outs.append(out)
        states = [o[0] for o in outs]
        counted += sum(o[1].counted for o in outs)
        inbox = [[outs[q][2 + p] for q in range(W) if q != p] for p in range(W)]
        if all(o[1].queued == 0 and o[1].sent == 0 for o in outs):
            break
    serial = enumerate_regions(net, box=(-1, 1))
    assert counted == serial.count
    # The seen shards are disjoint, each pattern with its owner, and together every queued pattern.
    shards = [s.seen for s in states]
    assert sum(len(s) for s in shards) == len(set().union(*shards))
    for p, s in enumerate(shards):
        assert set(owners(np.frombuffer(b"".join(s), dtype=np.uint8).reshape(len(s), -1), W).tolist()) <= {p}
    found = {pack_signs(r.pattern.signs[None, :].astype(np.int8))[0].tobytes() for r in serial.regions}
    assert found <= set().union(*shards)


def test_rounds_process_batches_and_sum_to_the_serial_count_in_all_of_rd(monkeypatch):
    # A deep net in all of R^3 (polar-hull certificates stacked within a batch): the partitions' rounds use
    # the batched RegionProcessor.process_batch only (process, one region per call, is made to fail), and
    # together they count the serial search's regions, each once.
    from lpengine.regions.processor import RegionProcessor

    net = ReLUNetwork.random(3, [6, 6, 6], seed=1)
    serial = enumerate_regions(net, whole_space=True)

    def refuse(self, item):
        raise AssertionError("RegionProcessor.process called; the batched process_batch is expected")

    monkeypatch.setattr(RegionProcessor, "process", refuse)
    tol = resolve_tolerances(None)
    dom = make_domain(3, None, whole_space=True, tol=tol)
    x0, p0 = start_point(net, dom, tol, 0)
    W = 2
    setup = SearchSetup(uuid.uuid4().hex, net, dom, tol, "hybrid", False, "highs", W, True)
    states = initial_states(setup, [PendingRegion(np.array(p0.signs), guess=x0)], {p0.key})
    inbox: list[list] = [[] for _ in range(W)]
    counted = 0
    for _ in range(500):
        outs = [run_round(setup, p, 100, states[p], inbox[p]) for p in range(W)]
        states = [o[0] for o in outs]
        counted += sum(o[1].counted for o in outs)
        inbox = [[outs[q][2 + p] for q in range(W) if q != p] for p in range(W)]
        if all(o[1].queued == 0 and o[1].sent == 0 for o in outs):
            break
    assert counted == serial.count
