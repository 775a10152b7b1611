"""Exact lower bounds of the slope LPs (lpengine.simplex.degenerate.prove_zero_lower_bound).

A pass of the directional-derivative test rests on every slope LP having optimum 0; these tests
check that each such LP is proved in rationals, that wrong multipliers are refused, and that an
LP whose exact optimum is a hair below 0 (while HiGHS reports 0) leaves the test undecided.
The negativity of that optimum is shown here independently: a feasible point whose objective is
evaluated in ``fractions.Fraction`` on the LP's float64 data.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from lpengine.lp import open_solver
from lpengine.lp.exact import solve_exact
from lpengine.simplex import degenerate
from lpengine.simplex.degenerate import branch_lp, decide_by_slopes, prove_zero_lower_bound, slope_terms
from lpengine.tolerances import Tolerances

from .test_degenerate import CASES, _degenerate_instance

TOL = Tolerances()
DELTA = 2.0**-45  # far below HiGHS's dual feasibility tolerance (1e-7): floats cannot see it


def _first_branch_lp(seed: int, interpolated: int = 11, shift: float = 0.0):
    """The LP of the first choice (every concave atom dropped, each group's first cone), with
    ``shift`` added to the slope's gradient in coordinate 0; and the number ``D`` of ``e`` columns."""
    model, _, signs, tight = _degenerate_instance(seed, interpolated=interpolated)
    terms = slope_terms(model, signs, tight)
    assert terms is not None
    D = model.D
    brs = [g[0] for g in terms.groups]
    lin = terms.linear + sum((b.linear for b in brs), np.zeros(D))
    lin[0] += shift
    convex = terms.relu_coef >= 0
    lp = branch_lp(
        lin,
        np.vstack([terms.abs_rows] + [b.abs_rows for b in brs]),
        np.concatenate([terms.abs_lo] + [b.abs_lo for b in brs]),
        np.concatenate([terms.abs_hi] + [b.abs_hi for b in brs]),
        terms.relu_rows[convex],
        terms.relu_coef[convex],
        np.vstack([np.zeros((0, D))] + [b.cone for b in brs]),
        np.zeros(D, dtype=bool),
    )
    return lp, D


def _solve(lp):
    with open_solver(lp, tol=TOL) as s:
        res = s.solve()
        return res, s.get_basis()


def _exact_value_if_feasible(lp, x) -> Fraction | None:
    """``c.x`` in Fractions when ``x`` satisfies every row and column bound exactly, else None."""
    A = lp.A.toarray()
    xs = [Fraction(v) for v in x]
    for j, v in enumerate(xs):
        lo, hi = lp.col_lower[j], lp.col_upper[j]
        if (np.isfinite(lo) and v < Fraction(lo)) or (np.isfinite(hi) and v > Fraction(hi)):
            return None
    for i in range(lp.n_rows):
        ax = sum((Fraction(a) * v for a, v in zip(A[i].tolist(), xs, strict=True)), Fraction(0))
        lo, hi = lp.row_lower[i], lp.row_upper[i]
        if (np.isfinite(lo) and ax < Fraction(lo)) or (np.isfinite(hi) and ax > Fraction(hi)):
            return None
    return sum((Fraction(c) * v for c, v in zip(lp.c.tolist(), xs, strict=True)), Fraction(0))


def test_every_pass_is_proved_exactly_on_the_dyadic_instances():
    """Each instance that passes has all its LPs proved; both cheap routes occur (the basis repairs
    float duals that are not exact)."""
    routes: set[str] = set()
    passes = 0
    for seed, k in CASES:
        model, theta, signs, tight = _degenerate_instance(seed, interpolated=k)
        res = decide_by_slopes(
            model, theta, signs, tight, model.loss_at(theta), max_branches=1 << 12, radius=1e-3, tol=TOL
        )
        assert res.decided
        if res.ok:
            passes += 1
            assert res.unproved == 0 and res.proved == res.lps == sum(res.proofs.values())
        routes |= set(res.proofs)
    assert passes >= 5
    assert {"float duals", "basis"} <= routes


def test_float_duals_pass_but_tampered_duals_do_not():
    lp, D = _first_branch_lp(3)
    res, basis = _solve(lp)
    assert prove_zero_lower_bound(lp, res, None, max_entries=0) == "float duals"
    assert res.row_duals is not None
    # the e columns come first
    A = lp.A.toarray()
    tampered = 0
    for i in range(lp.n_rows):
        if np.any(A[i, :D] != 0):  # a multiplier off by 2^-30 on a row touching e: z_e is off by it
            y = res.row_duals.copy()
            y[i] += 2.0**-30
            assert prove_zero_lower_bound(lp, replace(res, row_duals=y), None, max_entries=0) is None
            tampered += 1
        if np.isinf(lp.row_upper[i]):  # an inequality row's multiplier must be >= 0
            y = res.row_duals.copy()
            y[i] = min(y[i], 0.0) - 2.0**-30
            assert prove_zero_lower_bound(lp, replace(res, row_duals=y), None, max_entries=0) is None
            tampered += 1
    assert tampered > lp.n_rows // 2
    # the repairs then find valid multipliers of their own
    y = res.row_duals + 2.0**-30
    assert prove_zero_lower_bound(lp, replace(res, row_duals=y), basis) in ("basis", "float duals")
    assert prove_zero_lower_bound(lp, replace(res, row_duals=y), None) == "exact simplex"


def test_a_hair_negative_optimum_is_not_proved():
    """Shift the gradient by 2^-45: HiGHS still answers 0 (within its tolerances), the exact optimum
    is negative (a feasible point of negative value, evaluated in Fractions), and no route proves 0."""
    lp, _ = _first_branch_lp(3, shift=DELTA)
    res, basis = _solve(lp)
    assert res.fun == pytest.approx(0.0, abs=1e-9)
    witness = solve_exact(lp).check
    assert witness is not None and witness.x is not None
    value = _exact_value_if_feasible(lp, witness.x.to_fractions())
    assert value is not None and value < 0
    assert prove_zero_lower_bound(lp, res, basis) is None


def test_a_hair_negative_slope_leaves_the_vertex_undecided(monkeypatch):
    """The same shift inside decide_by_slopes: no loss step descends (the true loss is unchanged), the
    float optima all look like 0, and the test is undecided instead of passing."""
    model, theta, signs, tight = _degenerate_instance(3, interpolated=11)
    exact_ok = decide_by_slopes(
        model, theta, signs, tight, model.loss_at(theta), max_branches=1 << 12, radius=1e-3, tol=TOL
    )
    assert exact_ok.ok and exact_ok.proved == exact_ok.lps

    def shifted(*args, **kwargs):
        terms = slope_terms(*args, **kwargs)
        lin = terms.linear.copy()
        lin[0] += DELTA
        return replace(terms, linear=lin)

    monkeypatch.setattr(degenerate, "slope_terms", shifted)
    res = decide_by_slopes(model, theta, signs, tight, model.loss_at(theta), max_branches=1 << 12, radius=1e-3, tol=TOL)
    assert res.min_value == pytest.approx(0.0, abs=1e-9)
    assert res.best_x is None and res.failed == 0
    assert res.unproved >= 1 and res.proved + res.unproved == res.lps
    assert not res.decided and not res.ok
