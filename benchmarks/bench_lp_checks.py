"""Cost of the LP layer's post-solve checks on a typical region LP.

Usage: python benchmarks/bench_lp_checks.py [--repeat 2000] [--d 3] [--units 20]

A Chebyshev LP of an activation region (``d`` inputs, ``units`` unit rows plus
the box) is re-solved hot after a sign flip of one row, as the region search
does.  Printed side by side, from one run: the mean time of a whole
``WarmSolver.solve()`` (checks included) and the mean time of the checks alone
(:func:`review_optimal` on the same answer; :func:`farkas_gap` on an infeasible
one), and their ratio.

Table 2 times whole region enumerations (``enumerate_regions``, three small
nets) with the checks as shipped and with the checks replaced by no-ops in the
LP layer (lpengine.lp.backends.base), alternating A/B runs in one process (best of ``--rounds``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp

import lpengine.lp.backends.base as lp_base
from lpengine import ReLUNetwork
from lpengine.lp import LinearProgram, LPStatus, open_solver
from lpengine.lp.backends.base import ModelMirror
from lpengine.lp.checks import farkas_gap, review_optimal
from lpengine.tolerances import Tolerances


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2000)
    ap.add_argument("--d", type=int, default=3)
    ap.add_argument("--units", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    d, k = args.d, args.units
    W = rng.standard_normal((k, d))
    b = rng.standard_normal(k) * 0.3
    G = np.vstack([W, np.eye(d), -np.eye(d)])
    norms = np.linalg.norm(G, axis=1)
    h = np.concatenate([-b, np.ones(2 * d)])
    cost = np.zeros(d + 1)
    cost[d] = -1.0
    lp = LinearProgram(
        c=cost,
        A=np.hstack([G / norms[:, None], np.ones((G.shape[0], 1))]),
        row_upper=h / norms,
        col_lower=np.concatenate([np.full(d, -np.inf), [0.0]]),
    )
    tol = Tolerances()
    t_solve = {LPStatus.OPTIMAL: [], LPStatus.INFEASIBLE: []}
    t_check = {LPStatus.OPTIMAL: [], LPStatus.INFEASIBLE: []}
    x0 = rng.uniform(-0.5, 0.5, d)
    base_sign = np.where(W @ x0 + b > 0, 1.0, -1.0)
    rays_checked = 0

    def set_unit(s, i: int, sg: float) -> None:
        # unit i: sg * (w.x + b) >= r |w|  <=>  -sg w.x/|w| + r <= sg b/|w|
        for j in range(d):
            s.set_coefficient(i, j, -sg * W[i, j] / norms[i])
        s.set_row_bounds(i, -np.inf, sg * b[i] / norms[i])

    with open_solver(lp) as s:
        for i in range(k):
            set_unit(s, i, base_sign[i])
        s.solve()
        for it in range(args.repeat):
            i = it % k
            set_unit(s, i, -base_sign[i])  # the neighbour across unit i (may be empty)
            t0 = time.perf_counter()
            res = s.solve()
            t1 = time.perf_counter()
            if res.status not in t_solve:
                set_unit(s, i, base_sign[i])
                continue
            model = s._m.model_data()  # the solver's own model copy (benchmark only)
            t2 = time.perf_counter()
            if res.status is LPStatus.OPTIMAL:
                review_optimal(model, res.x, model.A @ res.x, res.residual, res.row_duals, res.col_duals, tol)
            else:
                rays_checked += farkas_gap(model, res.farkas, tol) > tol.dual
            t3 = time.perf_counter()
            set_unit(s, i, base_sign[i])
            t_solve[res.status].append(t1 - t0)
            t_check[res.status].append(t3 - t2)
    print(f"region LP: d = {d}, {k} unit rows + {2 * d} box rows; {args.repeat} hot re-solves")
    print(f"{'answer':12s} {'count':>6s} {'solve (us)':>11s} {'checks (us)':>12s} {'checks/solve':>13s}")
    for st in t_solve:
        if t_solve[st]:
            a, c = 1e6 * np.mean(t_solve[st]), 1e6 * np.mean(t_check[st])
            print(f"{st.value:12s} {len(t_solve[st]):6d} {a:11.1f} {c:12.1f} {c / a:13.2f}")
    n_inf = len(t_solve[LPStatus.INFEASIBLE])
    print(f"infeasible answers whose HiGHS ray checked at once (no ray LP): {rays_checked} of {n_inf}")
    enumeration_ab(args.rounds)
    coefficient_edits_ab(args.rounds)


def enumeration_ab(rounds: int) -> None:
    from lpengine.regions import enumerate_regions

    nets = [
        ("2-D [8, 8], box", ReLUNetwork.random(2, [8, 8], seed=1, n_out=None), {"box": (-1.0, 1.0)}),
        (
            "3-D [10, 6], box, lp",
            ReLUNetwork.random(3, [10, 6], seed=2, n_out=None),
            {"box": (-1.0, 1.0), "method": "lp"},
        ),
        ("2-D [6, 6], R^2", ReLUNetwork.random(2, [6, 6], seed=3, n_out=None), {"whole_space": True}),
    ]
    real = (lp_base.review_optimal, lp_base.certify_infeasible)
    stub = (lambda *a: None, lambda model, ray, tol, backend: (ray, None))
    print(f"\n{'enumeration':24s} {'regions':>7s} {'checks (s)':>11s} {'no checks (s)':>14s} {'ratio':>6s}")
    for name, net, kw in nets:
        best = {"real": np.inf, "stub": np.inf}
        count = 0
        for _ in range(rounds):
            for label, fns in (("real", real), ("stub", stub)):
                lp_base.review_optimal, lp_base.certify_infeasible = fns
                t0 = time.perf_counter()
                count = enumerate_regions(net, **kw).count
                best[label] = min(best[label], time.perf_counter() - t0)
        lp_base.review_optimal, lp_base.certify_infeasible = real
        print(f"{name:24s} {count:7d} {best['real']:11.3f} {best['stub']:14.3f} {best['real'] / best['stub']:6.2f}")


class _LilRebuildMirror(ModelMirror):
    """The former ``set_coefficient``: a LIL copy of the whole matrix per edit (reference only)."""

    def set_coefficient(self, row: int, col: int, value: float) -> None:
        A = sp.lil_array(self.A)
        A[row, col] = value
        self.A = sp.csr_array(A)


def coefficient_edits_ab(rounds: int) -> None:
    rng = np.random.default_rng(1)
    cases = [("region LP 26 x 4, 3 edits", 26, 4, 3), ("sparse 2000 x 50, 20 edits", 2000, 50, 20)]
    print(f"\n{'coefficient edits':28s} {'LIL rebuild (us)':>17s} {'shipped (us)':>13s} {'ratio':>6s}")
    for name, m, n, k in cases:
        dense = np.where(rng.random((m, n)) < 0.2, rng.standard_normal((m, n)), 0.0)
        lp = LinearProgram(c=np.zeros(n), A=dense, row_upper=np.ones(m))
        edits = [(int(rng.integers(m)), int(rng.integers(n)), float(rng.standard_normal())) for _ in range(k)]
        best = {}
        for label, cls in (("lil", _LilRebuildMirror), ("new", ModelMirror)):
            mirror = cls(lp)
            reps = 200
            t = np.inf
            for _ in range(rounds):
                t0 = time.perf_counter()
                for _ in range(reps):
                    for i, j, v in edits:
                        mirror.set_coefficient(i, j, v)
                    mirror.A  # noqa: B018  (the read the next solve makes)
                t = min(t, (time.perf_counter() - t0) / reps)
            best[label] = 1e6 * t
        print(f"{name:28s} {best['lil']:17.1f} {best['new']:13.1f} {best['lil'] / best['new']:6.1f}")


if __name__ == "__main__":
    main()
