"""The local work sharing (``n_jobs``) and what it does not apply to."""

from __future__ import annotations

from lpengine import ReLUNetwork
from lpengine.regions import enumerate_regions


def test_a_small_1d_scan_stays_in_this_process():
    # The scan starts its workers only after 0.2 s of walking (a fork would cost more than this whole
    # scan): processes == 1 says so.  The LP method finds the same regions; it too stays serial here,
    # because a line never has the 16 pending regions at which the workers start (at most two ends are
    # pending at a time).  tests/regions/test_scan_parallel.py covers the scan with workers.
    net = ReLUNetwork.random(1, [20, 20], seed=4)
    scan = enumerate_regions(net, box=(-4, 4), n_jobs=2)
    shared = enumerate_regions(net, box=(-4, 4), n_jobs=2, method="lp")
    assert scan.method == "scan" and scan.processes == 1 and scan.complete
    assert shared.complete and shared.count == scan.count and shared.processes == 1
    assert sorted(str(r.pattern) for r in shared.regions) == sorted(str(r.pattern) for r in scan.regions)
