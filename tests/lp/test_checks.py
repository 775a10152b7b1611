"""Post-solve checks of the LP layer (lpengine.lp.checks) on both backends.

Each LP's answer is derived by hand in its comment."""

from __future__ import annotations

import numpy as np
import pytest

from lpengine.exceptions import InaccurateSolutionWarning
from lpengine.lp import LinearProgram, LPStatus, available_backends, get_backend, open_solver, solve
from lpengine.lp.checks import (
    ModelData,
    certify_infeasible,
    dual_violation,
    farkas_gap,
    farkas_lp,
    ray_from_farkas_lp,
)
from lpengine.tolerances import Tolerances
from tests.common.lp_checks import assert_farkas_certificate

INF = np.inf
TOL = Tolerances()
backend_param = pytest.mark.parametrize("backend", available_backends())


def base_lp() -> LinearProgram:
    # min -x - y s.t. x + 2y <= 4, 3x + y <= 6, x, y >= 0: optimum (8/5, 6/5), y = (-2/5, -1/5), z = 0.
    return LinearProgram(c=[-1.0, -1.0], A=[[1.0, 2.0], [3.0, 1.0]], row_upper=[4.0, 6.0], col_lower=0.0)


def test_dual_violation_of_the_exact_kkt_point_is_zero() -> None:
    lp = base_lp()
    x = np.array([1.6, 1.2])
    v = dual_violation(ModelData.of(lp), x, lp.A @ x, np.array([-0.4, -0.2]), np.zeros(2), TOL)
    assert v <= 1e-15


@pytest.mark.parametrize(
    ("y", "z", "expected"),
    [
        # a positive dual on row 0, which has no lower bound (0.4 wrong-signed), and stationarity:
        # A^T y = (0.4 - 0.6, 0.8 - 0.2) = (-0.2, 0.6), c - A^T y = (-0.8, -1.6); the largest is 1.6, scale 1.
        (np.array([0.4, -0.2]), np.zeros(2), 1.6),
        # stationarity broken by 1e-3 in z_0 (and z_0 > 0 at x_0 = 1.6, not at its lower bound 0)
        (np.array([-0.4, -0.2]), np.array([1e-3, 0.0]), 1e-3),
    ],
)
def test_dual_violation_detects_wrong_duals(y, z, expected) -> None:
    lp = base_lp()
    x = np.array([1.6, 1.2])
    assert dual_violation(ModelData.of(lp), x, lp.A @ x, y, z, TOL) == pytest.approx(expected, rel=1e-12)


@backend_param
def test_optimal_with_wrong_signed_reduced_cost_becomes_inaccurate(backend: str) -> None:
    # min -0.3 x + w, x + w <= 1, 0 <= x, w <= 1: optimum x = 1 (objective -0.3).  With a dual
    # tolerance of 0.5 HiGHS accepts the slack basis x = 0, whose reduced cost -0.3 < 0 sits on x's
    # lower bound: the check must refuse it.
    lp = LinearProgram(c=[-0.3, 1.0], A=[[1.0, 1.0]], row_upper=[1.0], col_lower=0.0, col_upper=1.0)
    with pytest.warns(InaccurateSolutionWarning, match="dual infeasibility is 0.3"):
        res = solve(lp, backend=backend, options={"dual_feasibility_tolerance": 0.5})
    assert res.status is LPStatus.INACCURATE and not res.success
    # With the default tolerances the optimum is found and passes.
    res = solve(lp, backend=backend)
    assert res.status is LPStatus.OPTIMAL
    assert res.fun == pytest.approx(-0.3, abs=1e-12)


@backend_param
def test_infeasible_by_less_than_the_dual_tolerance_is_inaccurate(backend: str) -> None:
    # x >= 1e-9 and x <= 0: infeasible by 1e-9.  A solver with a 1e-10 primal tolerance says infeasible;
    # the best Farkas ray (1, -1) proves a gap of only 1e-9 < Tolerances.dual: not certified.
    lp = LinearProgram(c=[1.0], A=[[1.0], [1.0]], row_lower=[1e-9, -INF], row_upper=[INF, 0.0])
    with pytest.warns(InaccurateSolutionWarning, match="no Farkas ray proves it"):
        res = solve(lp, backend=backend, options={"primal_feasibility_tolerance": 1e-10})
    assert res.status is LPStatus.INACCURATE


@backend_param
def test_clearly_infeasible_carries_a_checked_ray(backend: str) -> None:
    # x + y >= 3 and x + y <= 1: the ray (1, -1) proves 0 = (yA) x >= 3 - 1 = 2.
    lp = LinearProgram(c=[1.0, 0.0], A=[[1.0, 1.0], [1.0, 1.0]], row_lower=[3.0, -INF], row_upper=[INF, 1.0])
    res = solve(lp, backend=backend)
    assert res.status is LPStatus.INFEASIBLE
    assert_farkas_certificate(lp, res.farkas)
    assert farkas_gap(ModelData.of(lp), res.farkas, TOL) == pytest.approx(
        1.0, rel=1e-12
    )  # L - U = 3 - 1 - 0 = 2, relative to max(1, L) = 2


def test_farkas_gap_rejects_non_rays() -> None:
    model = ModelData.of(
        LinearProgram(c=[1.0, 0.0], A=[[1.0, 1.0], [1.0, 1.0]], row_lower=[3.0, -INF], row_upper=[INF, 1.0])
    )
    assert farkas_gap(model, None, TOL) == -INF
    assert farkas_gap(model, np.zeros(2), TOL) == -INF
    assert farkas_gap(model, np.array([1.0, 1.0]), TOL) == -INF  # yA = (2, 2) on free columns
    assert farkas_gap(model, np.array([1.0, -1.0]), TOL) == pytest.approx(1.0)
    assert farkas_gap(model, np.array([-2.0, 2.0]), TOL) == pytest.approx(1.0)  # either sign convention


@backend_param
def test_ray_lp_finds_a_ray_when_the_backend_gives_a_wrong_one(backend: str) -> None:
    # x + y <= -1 with x, y >= 0 (infeasible: y = 1 gives x + y >= 0 > -1).  A bogus ray is replaced.
    lp = LinearProgram(c=[1.0, 1.0], A=[[1.0, 1.0]], row_upper=[-1.0], col_lower=0.0)
    model = ModelData.of(lp)
    ray, reason = certify_infeasible(model, np.array([0.0]), TOL, get_backend(backend))
    assert reason is None
    assert_farkas_certificate(lp, ray)


@backend_param
def test_ray_lp_of_a_feasible_lp_has_optimum_zero(backend: str) -> None:
    lp = base_lp()
    res = solve(farkas_lp(ModelData.of(lp)), backend=backend)
    assert res.status is LPStatus.OPTIMAL
    assert res.fun == pytest.approx(0.0, abs=1e-12)
    ray, reason = certify_infeasible(ModelData.of(lp), None, TOL, get_backend(backend))
    assert reason is not None and "no Farkas ray" in reason


def test_ray_from_farkas_lp_splits_u_minus_v() -> None:
    lp = base_lp()
    z = np.array([0.5, 0.0, 0.25, 0.125, 0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(ray_from_farkas_lp(ModelData.of(lp), z), [0.25, -0.125])


@backend_param
def test_models_without_columns_are_decided_directly(backend: str) -> None:
    # No variables: every row's activity is 0.  Feasible iff each row's range contains 0.
    ok = solve(
        LinearProgram(c=np.zeros(0), A=np.zeros((2, 0)), row_lower=[-1.0, 0.0], row_upper=[1.0, 0.0], offset=2.5),
        backend=backend,
    )
    assert ok.status is LPStatus.OPTIMAL and ok.fun == 2.5 and ok.x.shape == (0,)
    bad_lp = LinearProgram(c=np.zeros(0), A=np.zeros((2, 0)), row_lower=[-1.0, 0.5], row_upper=[1.0, 1.0])
    bad = solve(bad_lp, backend=backend)
    assert bad.status is LPStatus.INFEASIBLE
    assert_farkas_certificate(bad_lp, bad.farkas)
    assert solve(LinearProgram(c=np.zeros(0)), backend=backend).status is LPStatus.OPTIMAL


@backend_param
def test_failed_check_names_the_native_status_and_warns_at_the_callers_line(backend: str) -> None:
    # The LP of test_optimal_with_wrong_signed_reduced_cost_becomes_inaccurate: its slack basis is refused.
    lp = LinearProgram(c=[-0.3, 1.0], A=[[1.0, 1.0]], row_upper=[1.0], col_lower=0.0, col_upper=1.0)
    with open_solver(lp, backend=backend, options={"dual_feasibility_tolerance": 0.5}) as s:
        with pytest.warns(InaccurateSolutionWarning, match="reported an optimal solution but") as rec:
            res = s.solve()
    native = "HiGHS kOptimal" if backend == "highs" else "scipy linprog status 0"
    assert res.message.startswith(f"inaccurate ({native}, the recomputed dual infeasibility is 0.3")
    assert rec[0].filename == __file__  # attributed to whoever called solve(), not to the LP layer
