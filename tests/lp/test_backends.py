"""LP layer: hand-solved LPs on every backend (optima, duals, Farkas rays), warm edits, validation, HiGHS vs scipy.

Every expected optimum below is derived by hand in the comment next to it
(vertex enumeration / solving the 2x2 KKT system), not read off a solver.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from lpengine.exceptions import InvalidOptionError, InvalidProblemError
from lpengine.lp import (
    BasisStatus,
    LinearProgram,
    LPStatus,
    available_backends,
    get_backend,
    open_solver,
    solve,
)
from lpengine.lp.backends.base import ModelMirror
from tests.common.lp_checks import assert_farkas_certificate, assert_kkt, assert_primal_feasible

BACKENDS = available_backends()
INF = np.inf

backend_param = pytest.mark.parametrize("backend", BACKENDS)


def test_both_backends_are_available() -> None:
    assert BACKENDS == ["highs", "scipy"]


def base_lp() -> LinearProgram:
    """min -x - y  s.t.  x + 2y <= 4,  3x + y <= 6,  x, y >= 0.

    Vertices: (0,0) -> 0, (2,0) -> -2, (0,2) -> -2, and the intersection of both
    rows (8/5, 6/5) -> -14/5, the unique optimum.  Duals from c = A.T y:
    y1 + 3 y2 = -1, 2 y1 + y2 = -1  =>  y = (-2/5, -1/5) (upper bounds: <= 0).
    """
    return LinearProgram(c=[-1.0, -1.0], A=[[1.0, 2.0], [3.0, 1.0]], row_upper=[4.0, 6.0], col_lower=0.0)


# ---------------------------------------------------------------- single solves
@backend_param
def test_unique_optimum_and_duals(backend: str) -> None:
    lp = base_lp()
    res = solve(lp, backend=backend)
    assert res.status is LPStatus.OPTIMAL and res.success
    assert res.fun == pytest.approx(-14 / 5, abs=1e-9)
    np.testing.assert_allclose(res.x, [8 / 5, 6 / 5], atol=1e-9)
    np.testing.assert_allclose(res.row_activity, [4.0, 6.0], atol=1e-9)
    assert res.residual <= 1e-9
    np.testing.assert_allclose(res.row_duals, [-2 / 5, -1 / 5], atol=1e-9)
    np.testing.assert_allclose(res.col_duals, [0.0, 0.0], atol=1e-9)
    assert_kkt(lp, res)
    # Strong duality by hand: b @ y = 4 * (-2/5) + 6 * (-1/5) = -14/5.
    assert float(np.dot([4.0, 6.0], res.row_duals)) == pytest.approx(-14 / 5, abs=1e-9)


@backend_param
def test_offset_is_added(backend: str) -> None:
    lp = LinearProgram(c=[-1.0, -1.0], A=[[1.0, 2.0], [3.0, 1.0]], row_upper=[4.0, 6.0], col_lower=0.0, offset=10.0)
    res = solve(lp, backend=backend)
    assert res.fun == pytest.approx(10 - 14 / 5, abs=1e-9)


def infeasible_via_columns() -> LinearProgram:
    """x + y <= -1 with x, y >= 0: y = 1 gives (yA) x = x + y >= 0 > -1 >= y.r."""
    return LinearProgram(c=[1.0, 1.0], A=[[1.0, 1.0]], row_upper=[-1.0], col_lower=0.0)


def infeasible_via_rows() -> LinearProgram:
    """x + y >= 3 and x + y <= 1, x, y free: y = (1, -1) gives yA = 0 but y.r >= 2."""
    return LinearProgram(c=[1.0, 0.0], A=[[1.0, 1.0], [1.0, 1.0]], row_lower=[3.0, -INF], row_upper=[INF, 1.0])


@backend_param
@pytest.mark.parametrize("make", [infeasible_via_columns, infeasible_via_rows])
def test_infeasible(backend: str, make) -> None:
    lp = make()
    res = solve(lp, backend=backend)
    assert res.status is LPStatus.INFEASIBLE
    assert not res.success
    assert res.x is None and np.isnan(res.fun)
    assert res.farkas is not None, "an infeasible answer must carry a checked Farkas ray"
    assert_farkas_certificate(lp, res.farkas)


def test_farkas_checker_rejects_a_non_certificate() -> None:
    # y = (1, 1) on infeasible_via_rows: yA = (2, 2), x free -> (yA)x covers R, no contradiction.
    with pytest.raises(AssertionError, match="not a certificate"):
        assert_farkas_certificate(infeasible_via_rows(), np.array([1.0, 1.0]))


@backend_param
def test_unbounded(backend: str) -> None:
    # min -x s.t. x - y <= 1, x, y >= 0: the ray (1, 1) keeps x - y = const and drives -x to -inf.
    lp = LinearProgram(c=[-1.0, 0.0], A=[[1.0, -1.0]], row_upper=[1.0], col_lower=0.0)
    res = solve(lp, backend=backend)
    assert res.status is LPStatus.UNBOUNDED
    assert not res.success


@backend_param
def test_degenerate_optimum(backend: str) -> None:
    # min -x - y s.t. x + y <= 2, x <= 1, y <= 1 (all rows), x, y >= 0.  Three rows are
    # active at the unique optimum (1, 1) in 2-D: primal degenerate, duals not unique.
    lp = LinearProgram(c=[-1.0, -1.0], A=[[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]], row_upper=[2.0, 1.0, 1.0], col_lower=0.0)
    res = solve(lp, backend=backend)
    assert res.status is LPStatus.OPTIMAL
    assert res.fun == pytest.approx(-2.0, abs=1e-9)
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-9)
    assert_kkt(lp, res)


@backend_param
def test_empty_row_feasible(backend: str) -> None:
    # Row 0 has no entries: its activity is 0, inside [-1, 1].  Then min x + y s.t. x + y >= 1 -> 1.
    lp = LinearProgram(
        c=[1.0, 1.0], A=[[0.0, 0.0], [1.0, 1.0]], row_lower=[-1.0, 1.0], row_upper=[1.0, INF], col_lower=0.0
    )
    res = solve(lp, backend=backend)
    assert res.status is LPStatus.OPTIMAL
    assert res.fun == pytest.approx(1.0, abs=1e-9)
    assert res.row_activity[0] == 0.0
    assert_kkt(lp, res)


@backend_param
def test_empty_row_infeasible(backend: str) -> None:
    # An empty row must have activity 0, which is outside [1, 2].
    lp = LinearProgram(c=[1.0], A=[[0.0]], row_lower=[1.0], row_upper=[2.0], col_lower=0.0, col_upper=1.0)
    res = solve(lp, backend=backend)
    assert res.status is LPStatus.INFEASIBLE
    # HiGHS rejects this before simplex runs and then gives no dual ray; a ray, if any, must certify.
    if res.farkas is not None:
        assert_farkas_certificate(lp, res.farkas)


@backend_param
def test_no_rows_only_column_bounds(backend: str) -> None:
    # min 2x - y over the box [2, 5] x [-1, 3]: x = 2, y = 3 -> 1.
    lp = LinearProgram(c=[2.0, -1.0], col_lower=[2.0, -1.0], col_upper=[5.0, 3.0])
    assert lp.n_rows == 0
    res = solve(lp, backend=backend)
    assert res.status is LPStatus.OPTIMAL
    assert res.fun == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(res.x, [2.0, 3.0], atol=1e-12)


@backend_param
def test_free_variables_and_equality_row(backend: str) -> None:
    # min x + 2y, x, y free, s.t. x - y = 1 (equality), x + y >= 3.
    # Substituting x = 1 + y: min 1 + 3y with 1 + 2y >= 3 -> y = 1, x = 2, value 4.
    # Duals: 1 = y0 + y1, 2 = -y0 + y1 -> y = (-1/2, 3/2); y1 >= 0 on the active lower bound.
    lp = LinearProgram(c=[1.0, 2.0], A=[[1.0, -1.0], [1.0, 1.0]], row_lower=[1.0, 3.0], row_upper=[1.0, INF])
    res = solve(lp, backend=backend)
    assert res.status is LPStatus.OPTIMAL
    assert res.fun == pytest.approx(4.0, abs=1e-9)
    np.testing.assert_allclose(res.x, [2.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(res.row_duals, [-0.5, 1.5], atol=1e-9)
    assert_kkt(lp, res)


@backend_param
def test_free_variable_unbounded_below(backend: str) -> None:
    # min x with x free and only x <= 5: unbounded.
    res = solve(LinearProgram(c=[1.0], A=[[1.0]], row_upper=[5.0]), backend=backend)
    assert res.status is LPStatus.UNBOUNDED


# ------------------------------------------------------------------ warm edits
@backend_param
def test_warm_resolve_after_row_bound_flip(backend: str) -> None:
    with open_solver(base_lp(), backend=backend) as s:
        r0 = s.solve()
        assert r0.fun == pytest.approx(-14 / 5, abs=1e-9)
        # Flip row 0 from x + 2y <= 4 to x + 2y >= 4.  Then y <= 6 - 3x binds and
        # x + y = 6 - 2x is largest at x = 0: optimum (0, 6), value -6.
        s.set_row_bounds(0, 4.0, INF)
        r1 = s.solve()
        assert r1.status is LPStatus.OPTIMAL
        assert r1.fun == pytest.approx(-6.0, abs=1e-9)
        np.testing.assert_allclose(r1.x, [0.0, 6.0], atol=1e-9)
        flipped = LinearProgram(
            c=[-1.0, -1.0], A=[[1.0, 2.0], [3.0, 1.0]], row_lower=[4.0, -INF], row_upper=[INF, 6.0], col_lower=0.0
        )
        assert_kkt(flipped, r1)
        # x + 2y >= 20 is impossible: the largest x + 2y with 3x + y <= 6, x, y >= 0 is 12.
        s.set_row_bounds([0], [20.0], [INF])
        r2 = s.solve()
        assert r2.status is LPStatus.INFEASIBLE
        bad = LinearProgram(
            c=[-1.0, -1.0], A=[[1.0, 2.0], [3.0, 1.0]], row_lower=[20.0, -INF], row_upper=[INF, 6.0], col_lower=0.0
        )
        assert r2.farkas is not None
        assert_farkas_certificate(bad, r2.farkas)
        # Flip back: the original optimum returns.
        s.set_row_bounds(0, -INF, 4.0)
        r3 = s.solve()
        assert r3.fun == pytest.approx(-14 / 5, abs=1e-9)
        np.testing.assert_allclose(r3.x, [8 / 5, 6 / 5], atol=1e-9)
        assert s.counters.solves == 4
        assert s.counters.by_status == {"optimal": 3, "infeasible": 1}


@backend_param
def test_add_rows_then_delete_rows(backend: str) -> None:
    with open_solver(base_lp(), backend=backend) as s:
        s.solve()
        # Add x <= 1: then y <= 3/2 from row 0 binds; optimum (1, 3/2), value -5/2.
        s.add_rows([[1.0, 0.0]], [-INF], [1.0])
        assert s.n_rows == 3
        r1 = s.solve()
        assert r1.fun == pytest.approx(-5 / 2, abs=1e-9)
        np.testing.assert_allclose(r1.x, [1.0, 1.5], atol=1e-9)
        np.testing.assert_allclose(r1.row_activity, [4.0, 4.5, 1.0], atol=1e-9)
        # Delete row 0: left 3x + y <= 6, x <= 1; x + y = 6 - 2x on the first row -> (0, 6), -6.
        s.delete_rows([0])
        assert s.n_rows == 2
        r2 = s.solve()
        assert r2.fun == pytest.approx(-6.0, abs=1e-9)
        np.testing.assert_allclose(r2.x, [0.0, 6.0], atol=1e-9)
        np.testing.assert_allclose(r2.row_activity, [6.0, 0.0], atol=1e-9)
        left = LinearProgram(c=[-1.0, -1.0], A=[[3.0, 1.0], [1.0, 0.0]], row_upper=[6.0, 1.0], col_lower=0.0)
        assert_kkt(left, r2)


@backend_param
def test_add_rows_rejects_wrong_width(backend: str) -> None:
    with open_solver(base_lp(), backend=backend) as s:
        with pytest.raises(ValueError, match="new rows have 3 columns; expected 2"):
            s.add_rows([[1.0, 0.0, 0.0]], [-INF], [1.0])


@backend_param
def test_set_cost(backend: str) -> None:
    with open_solver(base_lp(), backend=backend) as s:
        s.solve()
        # min -x: 3x <= 6 - y <= 6 -> x = 2 forces y = 0; value -2.
        s.set_cost([-1.0, 0.0])
        r1 = s.solve()
        assert r1.fun == pytest.approx(-2.0, abs=1e-9)
        np.testing.assert_allclose(r1.x, [2.0, 0.0], atol=1e-9)
        s.set_cost([-1.0, 0.0], offset=10.0)
        r2 = s.solve()
        assert r2.fun == pytest.approx(8.0, abs=1e-9)
        with pytest.raises(ValueError, match="cost must be a finite vector of length 2"):
            s.set_cost([1.0, 2.0, 3.0])


@backend_param
def test_set_col_bounds(backend: str) -> None:
    with open_solver(base_lp(), backend=backend) as s:
        s.solve()
        # y <= 1/2: on 3x + y = 6, x + y = 2 + 2y/3 grows with y, so y = 1/2, x = 11/6; value -7/3
        # (row 0: 11/6 + 1 = 17/6 <= 4 holds).
        s.set_col_bounds(1, 0.0, 0.5)
        r = s.solve()
        assert r.fun == pytest.approx(-7 / 3, abs=1e-9)
        np.testing.assert_allclose(r.x, [11 / 6, 0.5], atol=1e-9)
        lp = LinearProgram(
            c=[-1.0, -1.0], A=[[1.0, 2.0], [3.0, 1.0]], row_upper=[4.0, 6.0], col_lower=0.0, col_upper=[INF, 0.5]
        )
        assert_kkt(lp, r)
        # The column's upper bound is active: its dual is <= 0 (c_y - A[:,y].y = -1 + 1/3 = -2/3).
        assert r.col_duals[1] == pytest.approx(-2 / 3, abs=1e-9)
        with pytest.raises(ValueError, match="column lower bounds contains NaN"):
            s.set_col_bounds(0, np.nan, 1.0)


@backend_param
def test_set_coefficient(backend: str) -> None:
    with open_solver(base_lp(), backend=backend) as s:
        s.solve()
        # Row 1 becomes 3x + 3y <= 6, i.e. x + y <= 2; row 0 is then slack at every optimum: value -2.
        s.set_coefficient(1, 1, 3.0)
        assert s.solve().fun == pytest.approx(-2.0, abs=1e-9)


@backend_param
def test_basis_round_trip(backend: str) -> None:
    lp = base_lp()
    with open_solver(lp, backend=backend) as s:
        r0 = s.solve()
        basis = s.get_basis()
        if backend == "scipy":
            assert basis is None  # linprog exposes no basis
            s.set_basis(None)
            return
        assert r0.nit > 0
        # At (8/5, 6/5) both columns are basic and both rows sit at their upper bounds.
        np.testing.assert_array_equal(basis.col_status, [BasisStatus.BASIC, BasisStatus.BASIC])
        np.testing.assert_array_equal(basis.row_status, [BasisStatus.UPPER, BasisStatus.UPPER])
    with open_solver(lp, backend=backend) as s2:
        s2.set_basis(basis)
        r1 = s2.solve()
        assert r1.nit == 0  # the optimal basis needs no pivot
        assert r1.fun == pytest.approx(-14 / 5, abs=1e-9)
        np.testing.assert_allclose(r1.x, r0.x, atol=1e-12)
        b2 = s2.get_basis()
        np.testing.assert_array_equal(b2.col_status, basis.col_status)
        np.testing.assert_array_equal(b2.row_status, basis.row_status)
        s2.set_basis(None)
        assert s2.get_basis() is None
        assert s2.solve().fun == pytest.approx(-14 / 5, abs=1e-9)


def test_set_basis_none_is_a_cold_start() -> None:
    # Regression: set_basis(None) used to keep HiGHS's solved state (setBasis() without clearSolver()).
    with open_solver(base_lp(), backend="highs") as s:
        first = s.solve()
        assert first.nit == 2  # slack basis -> optimum: both columns enter
        s.set_basis(None)
        again = s.solve()
        assert again.nit == first.nit


@backend_param
def test_counters_increase(backend: str) -> None:
    with open_solver(base_lp(), backend=backend) as s:
        assert (s.counters.solves, s.counters.iterations) == (0, 0)
        r = s.solve()
        assert s.counters.solves == 1
        assert s.counters.iterations == r.nit
        assert r.nit > 0
        s.set_cost([-1.0, 0.0])
        r2 = s.solve()
        assert s.counters.solves == 2
        assert s.counters.iterations == r.nit + r2.nit
        assert s.counters.seconds > 0.0
        assert s.counters.by_status == {"optimal": 2}


@backend_param
def test_iteration_limit(backend: str) -> None:
    with open_solver(base_lp(), backend=backend) as s:
        r = s.solve(iteration_limit=0)
        assert r.status is LPStatus.ITERATION_LIMIT
        assert not r.success


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(c=[1.0, 1.0], A=[[1.0, 2.0, 3.0]]), r"A has shape \(1, 3\); expected \(m, 2\) to match c"),
        (dict(c=[1.0, 1.0], A=[[1.0, 2.0]], row_lower=[0.0, 1.0]), r"row_lower has shape \(2,\); expected \(1,\)"),
        (dict(c=[1.0, 1.0], col_upper=[1.0, 2.0, 3.0]), r"col_upper has shape \(3,\); expected \(2,\)"),
        (dict(c=[1.0, np.nan]), r"c contains NaN or inf"),
        (dict(c=[1.0, np.inf]), r"c contains NaN or inf"),
        (dict(c=[1.0], A=[[np.nan]]), r"A contains NaN or inf"),
        (dict(c=[1.0], A=[[1.0]], row_upper=[np.nan]), r"row_upper contains NaN"),
        (
            dict(c=[1.0, 1.0], col_lower=[0.0, 2.0], col_upper=[1.0, 1.0]),
            r"col_lower\[1\] = 2.0 exceeds col_upper\[1\] = 1.0",
        ),
        (
            dict(c=[1.0], A=[[1.0]], row_lower=[3.0], row_upper=[2.0]),
            r"row_lower\[0\] = 3.0 exceeds row_upper\[0\] = 2.0",
        ),
        (dict(c=[[1.0, 2.0]]), r"c has 2 dimension\(s\)"),
    ],
)
def test_linear_program_validation(kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidProblemError, match=match):
        LinearProgram(**kwargs)
    assert issubclass(InvalidProblemError, ValueError)


def test_linear_program_is_immutable() -> None:
    lp = base_lp()
    with pytest.raises(ValueError):
        lp.c[0] = 5.0
    np.testing.assert_array_equal(lp.col_upper, [INF, INF])
    np.testing.assert_array_equal(lp.row_lower, [-INF, -INF])


def test_unknown_backend() -> None:
    with pytest.raises(ValueError, match=r"unknown LP backend 'cplex'; known backends: \['highs', 'scipy'\]"):
        solve(base_lp(), backend="cplex")
    with pytest.raises(TypeError, match="backend must be a name"):
        get_backend(3)


def test_invalid_highs_option() -> None:
    with pytest.raises(InvalidOptionError, match="no_such_option"):
        solve(base_lp(), backend="highs", options={"no_such_option": 1})


def test_invalid_scipy_option() -> None:
    with pytest.raises(InvalidOptionError, match="does not accept option 'no_such_option'"):
        solve(base_lp(), backend="scipy", options={"no_such_option": 1})


# ------------------------------------------------------- HiGHS vs scipy (property)
@st.composite
def feasible_bounded_lps(draw) -> LinearProgram:
    """Small LPs that are feasible (a known point x0 satisfies every bound) and bounded (finite box)."""
    n = draw(st.integers(1, 6))
    m = draw(st.integers(0, 6))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    A = rng.integers(-3, 4, size=(m, n)).astype(float)
    x0 = rng.integers(-2, 3, size=n).astype(float)
    lo_slack = rng.choice([0.0, 1.0, 2.0, INF], size=m)
    hi_slack = rng.choice([0.0, 1.0, 3.0, INF], size=m)
    act = A @ x0
    cl = x0 - rng.integers(0, 4, size=n)
    cu = x0 + rng.integers(0, 4, size=n)
    c = rng.integers(-5, 6, size=n).astype(float)
    return LinearProgram(c=c, A=A, row_lower=act - lo_slack, row_upper=act + hi_slack, col_lower=cl, col_upper=cu)


@given(feasible_bounded_lps())
def test_highs_and_scipy_agree(lp: LinearProgram) -> None:
    rh = solve(lp, backend="highs")
    rs = solve(lp, backend="scipy")
    assert rh.status is LPStatus.OPTIMAL
    assert rs.status is LPStatus.OPTIMAL
    assert rh.fun == pytest.approx(rs.fun, rel=1e-7, abs=1e-9)
    assert_kkt(lp, rh)
    assert_primal_feasible(lp, rs.x)


def test_model_mirror_coefficient_edits_match_a_dense_reference() -> None:
    # Edits of stored entries, of structural zeros, to zero, repeated edits of one entry, and reads of the
    # dense check copy in between: after each read the mirror's A equals the dense matrix edited by hand.
    rng = np.random.default_rng(7)
    dense = np.where(rng.random((6, 5)) < 0.4, rng.standard_normal((6, 5)), 0.0)
    mirror = ModelMirror(LinearProgram(c=np.zeros(5), A=dense, row_upper=np.ones(6)))
    ref = dense.copy()
    for step in range(60):
        i, j = int(rng.integers(6)), int(rng.integers(5))
        v = 0.0 if step % 7 == 0 else float(rng.integers(-3, 4))
        mirror.set_coefficient(i, j, v)
        ref[i, j] = v
        if step % 5 == 0:
            np.testing.assert_array_equal(mirror.matrix(), ref)  # the dense copy, edited in place
        if step % 9 == 0:
            np.testing.assert_array_equal(mirror.A.toarray(), ref)
            assert not np.any(mirror.A.data == 0.0)  # zeros are not kept as stored entries
    np.testing.assert_array_equal(mirror.to_lp().A.toarray(), ref)
    mirror.add_rows([[1.0, 0.0, 0.0, 0.0, 2.0]], -1.0, 1.0)
    mirror.set_coefficient(6, 2, 5.0)
    mirror.delete_rows(np.array([0], dtype=np.int32))
    np.testing.assert_array_equal(mirror.A.toarray(), np.vstack([ref[1:], [[1.0, 0.0, 5.0, 0.0, 2.0]]]))
    with pytest.raises(IndexError, match=r"coefficient \(6, 0\) is outside the 6 x 5 matrix"):
        mirror.set_coefficient(6, 0, 1.0)
    with pytest.raises(ValueError, match="must be finite"):
        mirror.set_coefficient(0, 0, np.nan)


def test_model_mirror_never_writes_into_the_callers_matrix() -> None:
    A = sp.csr_array(np.array([[1.0, 2.0], [0.0, 3.0]]))
    mirror = ModelMirror(LinearProgram(c=np.zeros(2), A=A, row_upper=np.ones(2)))
    mirror.set_coefficient(0, 0, 9.0)
    assert mirror.A.toarray()[0, 0] == 9.0 and A.toarray()[0, 0] == 1.0
