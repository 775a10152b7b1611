"""Cost of proving the directional-derivative test's passes in exact rationals.

Usage: PYTHONPATH=$PWD python benchmarks/bench_degenerate_exact.py [--repeat 3]

Every slope LP of :func:`lpengine.simplex.degenerate.decide_by_slopes` that is not refuted gets its
lower bound 0 proved by :func:`~lpengine.simplex.degenerate.prove_zero_lower_bound`.  The table
compares, interleaved in one run, CPU seconds with the proofs ("exact") against the same calls with
the proof replaced by a stub that trusts the float answer ("float", the behaviour before the
proofs), on

* the 27 dyadic degenerate instances of ``tests/simplex/test_degenerate.py``;
* the integer-data walk of the same tests (``deep_relu_simplex`` with a cell cap of 64: the
  degenerate final vertex is decided by the slope test), the whole run.

It also counts the route that proved each LP (float duals / basis / exact simplex / unproved).
Not in the "float" column's favour: both columns open a warm solver per LP and read its basis.
"""

from __future__ import annotations

import argparse
import collections
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from lpengine import ReLUNetwork
from lpengine.simplex import deep_relu_simplex, degenerate
from lpengine.tolerances import Tolerances
from tests.simplex.test_degenerate import CASES, _degenerate_instance

TOL = Tolerances()
ROUTES: collections.Counter[str] = collections.Counter()


def _dyadic() -> None:
    for seed, k in CASES:
        model, theta, signs, tight = _degenerate_instance(seed, interpolated=k)
        degenerate.decide_by_slopes(
            model, theta, signs, tight, model.loss_at(theta), max_branches=1 << 12, radius=1e-3, tol=TOL
        )


def _walk() -> None:
    rng = np.random.default_rng(11)
    net = ReLUNetwork.random(2, [3, 2], seed=11)
    X = rng.integers(-3, 4, (40, 2)).astype(float)
    y = rng.integers(-3, 4, 40).astype(float)
    res = deep_relu_simplex(net, X, y, seed=0, certify_cells=2, certify_max_cells=64)
    assert res.certified


def _cpu(fn: Callable[[], None]) -> float:
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    proof = degenerate.prove_zero_lower_bound
    in_proofs = [0.0]

    def timed(*a: Any, **k: Any) -> str | None:
        t0 = time.process_time()
        how = proof(*a, **k)
        in_proofs[0] += time.process_time() - t0
        ROUTES[how or "unproved"] += 1
        return how

    def trusting(*a: Any, **k: Any) -> str | None:
        return "float (trusted)"

    rows = []
    for name, fn in (("27 dyadic instances", _dyadic), ("integer-data walk", _walk)):
        exact, flt, share = [], [], []
        for _ in range(args.repeat):
            degenerate.prove_zero_lower_bound = timed
            in_proofs[0] = 0.0
            ROUTES.clear()
            exact.append(_cpu(fn))
            share.append(in_proofs[0])
            routes = dict(ROUTES)
            degenerate.prove_zero_lower_bound = trusting
            flt.append(_cpu(fn))
        degenerate.prove_zero_lower_bound = proof
        e, f, p = min(exact), min(flt), min(share)
        rows.append((name, f, e, e / f, p, routes))
    print(f"{'instances':22s} {'float s':>8s} {'exact s':>8s} {'ratio':>6s} {'in proofs s':>11s}  routes")
    for name, f, e, r, p, routes in rows:
        print(f"{name:22s} {f:8.3f} {e:8.3f} {r:6.2f} {p:11.3f}  {routes}")


if __name__ == "__main__":
    main()
