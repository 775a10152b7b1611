"""The local work sharing (``n_jobs``) and what it does not apply to."""

from __future__ import annotations

from lpengine import ReLUNetwork
from lpengine.regions import enumerate_regions


def test_a_small_1d_scan_stays_in_this_process(monkeypatch):
    # The scan starts its workers only after _START_AFTER seconds of walking (0.2 s: a fork would cost
    # more than this whole scan): processes == 1 says so.  The threshold is raised here so that a loaded
    # machine, where this scan can take longer than 0.2 s of wall time, does not start them (the test is
    # about the mechanism, not the machine's speed).  The LP method finds the same regions; it too stays
    # serial here, because a line never has the 16 pending regions at which the workers start (at most two
    # ends are pending at a time).  tests/regions/test_scan_parallel.py covers the scan with workers.
    import lpengine.regions.scan_parallel as sp

    monkeypatch.setattr(sp, "_START_AFTER", 60.0)
    net = ReLUNetwork.random(1, [20, 20], seed=4)
    scan = enumerate_regions(net, box=(-4, 4), n_jobs=2)
    shared = enumerate_regions(net, box=(-4, 4), n_jobs=2, method="lp")
    assert scan.method == "scan" and scan.processes == 1 and scan.complete
    assert shared.complete and shared.count == scan.count and shared.processes == 1
    assert sorted(str(r.pattern) for r in shared.regions) == sorted(str(r.pattern) for r in scan.regions)


def test_a_budget_of_regions_is_not_overshot_by_the_workers(monkeypatch):
    # With max_regions the master hands out no more regions than the budget has left, so no region is
    # processed past it (wasted work: 81 of 3,000 on a capped deep net before).  Every processed region of
    # this net is counted (float_certified), so the decisions count the regions processed.
    import warnings

    import lpengine.regions.parallel as par

    monkeypatch.setattr(par, "_START_WORKERS_AT", 1)
    net = ReLUNetwork.random(3, [10, 10], seed=3)
    for cap, keep in ((40, True), (101, False)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = enumerate_regions(net, max_regions=cap, n_jobs=2, keep_regions=keep)
        assert res.count == cap and res.processes == 2 and not res.complete
        assert res.decisions["float_certified"] == cap


def _no_single_region_calls(monkeypatch):
    """Make RegionProcessor.process (one region per call) fail: every path must use process_batch."""
    from lpengine.regions.processor import RegionProcessor

    def refuse(self, item):
        raise AssertionError("RegionProcessor.process called; the batched process_batch is expected")

    monkeypatch.setattr(RegionProcessor, "process", refuse)  # the forked workers inherit it


def test_workers_and_master_process_batches_with_the_serial_result(monkeypatch):
    # A deep net in all of R^3: many regions leave the artificial box, so their polar-hull certificates are
    # stacked within a batch.  The shared search (batches in the workers and in the master) must give the
    # serial result: the count, the patterns with facet units and boundedness, and the graph's facet units.
    import lpengine.regions.parallel as par

    monkeypatch.setattr(par, "_START_WORKERS_AT", 1)
    net = ReLUNetwork.random(3, [6, 6, 6], seed=1)
    a = enumerate_regions(net, whole_space=True)
    _no_single_region_calls(monkeypatch)
    b = enumerate_regions(net, whole_space=True, n_jobs=2)
    assert a.complete and b.complete and b.processes == 2 and a.count == b.count
    summary = {str(r.pattern): (r.n_facets, r.bounded, sorted(r.facet_units)) for r in a.regions}
    assert summary == {str(r.pattern): (r.n_facets, r.bounded, sorted(r.facet_units)) for r in b.regions}
    units_a = {frozenset((str(a.regions[i].pattern), str(a.regions[j].pattern))): u for i, j, u in a.edges}
    units_b = {frozenset((str(b.regions[i].pattern), str(b.regions[j].pattern))): u for i, j, u in b.edges}
    assert units_a == units_b
