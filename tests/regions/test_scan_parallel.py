"""The 1-D scan cut into chunks (n_jobs / client): equal to the serial walk, seams decided exactly."""

from __future__ import annotations

import logging
from fractions import Fraction

import numpy as np
import pytest

import lpengine.regions.scan_parallel as sp
from lpengine import ReLUNetwork
from lpengine.exceptions import IterationLimitWarning
from lpengine.regions import enumerate_regions
from lpengine.regions.scan1d import walk_line_regions
from lpengine.tolerances import resolve_tolerances


def net_of(*layers) -> ReLUNetwork:
    ws = tuple(np.asarray(W, dtype=float) for W, _ in layers)
    bs = tuple(np.asarray(b, dtype=float) for _, b in layers)
    return ReLUNetwork(ws, bs, has_output_layer=False)


def sawtooth(depth: int) -> ReLUNetwork:
    # The tent map T(t) = 2 relu(t) - 4 relu(t - 1/2) on [0, 1], composed `depth` times: T^depth has 2^depth
    # linear pieces on [0, 1], and each piece is one region of the last layer's pair of units (Telgarsky's
    # construction); the count is 2^depth by hand.
    W = [np.array([[1.0], [1.0]])] + [np.array([[2.0, -4.0], [2.0, -4.0]])] * (depth - 1)
    b = [np.array([0.0, -0.5])] * depth
    return ReLUNetwork(W, b, has_output_layer=False)


def full(res) -> tuple:
    regions = [(str(r.pattern), r.witness.tolist(), r.margin, r.bounded, r.thin) for r in res.regions]
    return regions, sorted(res.edges)


@pytest.fixture
def eager(monkeypatch):
    """Start the worker at once (a small test scan would otherwise be over before it starts)."""
    monkeypatch.setattr(sp, "_START_AFTER", 0.0)


@pytest.mark.parametrize(
    "widths, seed, kw",
    [([20, 20], 4, {"box": (-4, 4)}), ([12, 12, 12], 1, {"whole_space": True}), ([16, 8], 3, {"box": (0.25, 9)})],
)
def test_parallel_scan_equals_the_serial_scan_region_by_region(eager, widths, seed, kw):
    net = ReLUNetwork.random(1, widths, seed=seed)
    serial = enumerate_regions(net, **kw)
    par = enumerate_regions(net, n_jobs=2, **kw)
    assert par.method == serial.method == "scan" and par.complete
    assert par.processes == 2 and par.decisions["scan_chunks"] > 1 and serial.decisions["scan_chunks"] == 1
    assert full(par) == full(serial)  # same regions in the same order, same witnesses and edges
    assert par.n_bounded == serial.n_bounded


def test_sawtooth_count_by_hand_in_parallel(eager):
    res = enumerate_regions(sawtooth(7), box=(0, 1), n_jobs=2)
    assert res.count == 2**7 and res.complete and res.processes == 2
    assert len(res.edges) == 2**7 - 1  # a path


def test_a_seam_on_a_breakpoint_and_a_seam_inside_a_region():
    # z = |t| - 1 on [-2, 2]: breakpoints -1, 0, 1.  Seams at 0 (a breakpoint) and at 0.5 (inside (0, 1)).
    net = net_of(([[1.0], [-1.0]], [0.0, 0.0]), ([[1.0, 1.0]], [-1.0]))
    tol = resolve_tolerances(None)
    chunks = [sp.ScanChunk(0, -2.0, 0.0), sp.ScanChunk(1, 0.0, 0.5), sp.ScanChunk(2, 0.5, 2.0)]
    joined = sp.join_chunks([sp.walk_chunk(net, c, tol) for c in reversed(chunks)])
    serial = sorted(walk_line_regions(net, -2.0, 2.0, 0.25), key=lambda p: p.lo)
    assert [(p.lo, p.hi) for p in joined] == [(Fraction(-2), -1), (-1, 0), (0, 1), (1, Fraction(2))]
    for a, b in zip(joined, serial, strict=True):
        assert np.array_equal(a.signs, b.signs) and (a.lo, a.hi) == (b.lo, b.hi)
        for x, y in ((a.left, b.left), (a.right, b.right)):
            assert (x is None and y is None) or np.array_equal(x, y)
    ordered = sp.serial_order(joined, 0.25)
    assert [(p.lo, p.hi) for p in ordered] == [(0, 1), (1, 2), (-1, 0), (-2, -1)]


def test_split_points_lie_inside_the_domain_and_increase():
    net = ReLUNetwork.random(1, [30, 10], seed=2)
    for lo, hi in ((-1.0, 1.0), (-np.inf, np.inf), (0.0, np.inf)):
        chunks = sp.split_line(net, lo, hi, 8)
        ends = [c.lo for c in chunks] + [chunks[-1].hi]
        assert ends[0] == lo and ends[-1] == hi and len(chunks) > 1
        assert all(a < b for a, b in zip(ends, ends[1:], strict=False))
        assert [c.index for c in chunks] == list(range(len(chunks)))


@pytest.mark.slow  # depends on the scan outlasting the callback's second call (wall time): failed once in CI
def test_a_stopped_parallel_scan_is_a_lower_bound_of_whole_regions(eager):
    net = sawtooth(10)  # about a second of walking: the callback's second call (0.5 s in) stops it
    full_res = enumerate_regions(net, box=(0, 1))
    truth = {str(r.pattern): r for r in full_res.regions}
    calls = []

    def stop_later(state):
        calls.append(state.regions)
        return len(calls) >= 2

    with pytest.warns(IterationLimitWarning):
        res = enumerate_regions(net, box=(0, 1), n_jobs=2, callback=stop_later)
    assert not res.complete and res.message == "stopped by callback" and res.count < 2**10
    pats = [str(r.pattern) for r in res.regions]
    assert len(pats) == len(set(pats)) and set(pats) <= set(truth)
    for r in res.regions:  # whole intervals only: the same witness (midpoint) as the full scan's
        assert r.witness.tolist() == truth[str(r.pattern)].witness.tolist()


def test_max_regions_keeps_the_scan_serial_and_says_so(caplog):
    net = ReLUNetwork.random(1, [20, 20], seed=4)
    with caplog.at_level(logging.INFO, logger="lpengine.regions.search1d"), pytest.warns(IterationLimitWarning):
        res = enumerate_regions(net, box=(-4, 4), n_jobs=2, max_regions=5)
    assert res.count == 5 and res.processes == 1 and res.decisions["scan_chunks"] == 1
    assert "runs serially" in caplog.text
    serial = enumerate_regions(net, box=(-4, 4))
    assert [str(r.pattern) for r in res.regions] == [str(r.pattern) for r in serial.regions[:5]]


def test_streamed_parallel_scan_counts_like_the_serial_one(eager, tmp_path):
    net = ReLUNetwork.random(1, [20, 20], seed=4)
    serial = enumerate_regions(net, box=(-4, 4))
    res = enumerate_regions(net, box=(-4, 4), n_jobs=2, keep_regions=False, shards_dir=tmp_path)
    assert res.count == serial.count and res.n_bounded == serial.n_bounded and res.processes == 2
    with np.load(tmp_path / "regions-00000.npz", allow_pickle=False) as z:
        got = [tuple(s) for s in z["signs"].tolist()]
    assert got == [tuple(r.pattern.signs.tolist()) for r in serial.regions]
