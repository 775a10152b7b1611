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
