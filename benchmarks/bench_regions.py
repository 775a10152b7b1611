"""Region-enumeration throughput: regions/s and LP solves per region, 1 vs 2 worker processes.

    python benchmarks/bench_regions.py            # the fixed suite (a few minutes)
    python benchmarks/bench_regions.py --quick    # the three smallest networks

The suite: random networks (``ReLUNetwork.random``, He-normal weights, N(0, 1)
biases, fixed seeds), input dimension 2-6, 2-3 hidden layers of 8-64 units,
counted inside boxes.  The box half-width is chosen per network so the counts
span 10^2 to 10^5.  Every row runs the vertex method (the default) serially and
with two processes, and, for the small networks, the LP method as an A/B
reference, all in one run; ratios are printed so that machine noise cancels.
"""

from __future__ import annotations

import argparse
import sys
import time

from lpengine import ReLUNetwork
from lpengine.regions import enumerate_regions

SUITE = [
    # (n_in, widths, seed, box half-width)
    (2, [8, 8], 0, 2.0),
    (2, [16, 16], 1, 3.0),
    (3, [8, 8, 8], 2, 2.0),
    (2, [32, 32], 3, 3.0),
    (3, [16, 16], 4, 2.0),
    (4, [16, 16], 5, 1.5),
    (2, [64, 64], 6, 3.0),
    (4, [16, 16, 16], 7, 1.0),
    (3, [32, 32], 8, 2.0),
    (5, [16, 16], 9, 1.0),
    (6, [12, 12], 10, 1.0),
]


def run(quick: bool) -> None:
    rows = SUITE[:3] if quick else SUITE
    hdr = f"{'network':<22}{'box':>6}{'regions':>9}{'reg/s 1p':>10}{'LPs/reg':>9}{'reg/s 2p':>10}{'2p/1p':>7}{'LP-method reg/s':>17}{'vertex/LP':>10}"
    print(hdr)
    print("-" * len(hdr))
    for n_in, widths, seed, half in rows:
        net = ReLUNetwork.random(n_in, widths, seed=seed)
        box = (-half, half)
        t = time.perf_counter()
        r1 = enumerate_regions(net, box=box)
        s1 = time.perf_counter() - t
        t = time.perf_counter()
        r2 = enumerate_regions(net, box=box, n_jobs=2)
        s2 = time.perf_counter() - t
        assert r1.count == r2.count, (r1.count, r2.count)
        lp_rate = ratio = ""
        if r1.count <= 3000:
            t = time.perf_counter()
            r3 = enumerate_regions(net, box=box, method="lp")
            s3 = time.perf_counter() - t
            assert r3.count == r1.count
            lp_rate = f"{r3.count / s3:,.0f}"
            ratio = f"{s3 / s1:.1f}x"
        name = f"{n_in}->{widths}"
        print(f"{name:<22}{half:>6g}{r1.count:>9,d}{r1.count / s1:>10,.0f}{r1.lp_solves / r1.count:>9.2f}"
              f"{r2.count / s2:>10,.0f}{s1 / s2:>7.2f}{lp_rate:>17}{ratio:>10}", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    run(ap.parse_args().quick)
    sys.exit(0)
