"""Tests of lpengine.lp.exact: every expected value is derived independently
(by hand, or with Python's ``fractions`` on the same data), never from the code under test."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lpengine.exceptions import InvalidProblemError
from lpengine.lp import LinearProgram, LPBasis, open_solver
from lpengine.lp.exact import (
    ExactStatus,
    RationalVector,
    affine_signs,
    check_farkas,
    check_interior_point,
    check_lp_optimum,
    decide_interior,
    integer_rows,
    proportionality,
    solve_exact,
    to_dyadic,
    verify_basis,
    with_box,
)

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
SPECIAL = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1, 1 / 3, -1e-300]


@pytest.mark.parametrize("v", SPECIAL)
def test_to_dyadic_is_exact_on_special_values(v):
    d = to_dyadic([v, 1.0])
    assert d.mantissas[0] * Fraction(2) ** d.exponent == Fraction(v)
    assert d.mantissas[1] * Fraction(2) ** d.exponent == 1


@given(st.lists(finite, min_size=1, max_size=6))
def test_to_dyadic_round_trip(values):
    d = to_dyadic(values)
    assert [m * Fraction(2) ** d.exponent for m in d.mantissas.tolist()] == [Fraction(v) for v in values]


def test_to_dyadic_rejects_nan():
    with pytest.raises(InvalidProblemError, match="finite"):
        to_dyadic([1.0, np.nan])


def _fraction_signs(A, c, x):
    out = []
    for row, ci in zip(A, c, strict=True):
        v = sum((Fraction(a) * Fraction(xi) for a, xi in zip(row, x, strict=True)), Fraction(ci))
        out.append((v > 0) - (v < 0))
    return out


@given(
    st.integers(1, 4).flatmap(
        lambda d: st.tuples(
            st.lists(st.lists(finite.filter(lambda v: abs(v) < 1e150), min_size=d, max_size=d), min_size=1, max_size=5),
            st.lists(finite.filter(lambda v: abs(v) < 1e150), min_size=5, max_size=5),
            st.lists(finite.filter(lambda v: abs(v) < 1e150), min_size=d, max_size=d),
        )
    )
)
def test_affine_signs_agree_with_fractions(data):
    A, c, x = data
    c = c[: len(A)]
    assert affine_signs(A, c, x).tolist() == _fraction_signs(A, c, x)


def test_affine_signs_where_floats_are_wrong():
    # x = fl(1/3): 3 * x - 1 is exactly -2^-54 < 0, but fl(3 * x) - 1 == 0.
    third = 1.0 / 3.0
    assert 3.0 * third - 1.0 == 0.0
    assert affine_signs([[3.0]], [-1.0], [third]).tolist() == [-1]
    assert Fraction(third) * 3 - 1 == Fraction(-1, 2**54)
    assert affine_signs([[2.0, -4.0]], [0.0], RationalVector((2, 1), 3)).tolist() == [0]


def test_proportionality():
    assert proportionality([1.0, 3.0, -2.0], [0.5, 1.5, -1.0]) == 1
    assert proportionality([1.0, 2.0], [-3.0, -6.0]) == -1
    assert proportionality([1.0, 0.1], [3.0, 0.3]) == 0  # 3 * fl(0.1) != fl(0.3)
    assert proportionality([1.0, 1.0], [1.0, 1.0 + 2**-52]) == 0
    assert proportionality([1e-300, 2e-300], [1e300, 2e300]) == 1
    assert proportionality([0.0, 0.0], [1.0, 1.0]) == 0
    assert proportionality([0.0, 1.0, 0.0], [0.0, -7.0, 0.0]) == -1


def test_interior_thin_slabs():
    # 0 < x < w is nonempty for every w > 0 and empty for w <= 0.
    for w in (1.0, 1e-8, 1e-100, 5e-324):
        cert = decide_interior([[1.0], [-1.0]], [w, 0.0])
        assert cert.nonempty and check_interior_point([[1.0], [-1.0]], [w, 0.0], cert.point)
        assert 0 < cert.point.to_fractions()[0] < Fraction(w)
    for w in (0.0, -1e-300, -1.0):
        cert = decide_interior([[1.0], [-1.0]], [w, 0.0])
        assert not cert.nonempty and check_farkas([[1.0], [-1.0]], [w, 0.0], cert.farkas)


@pytest.mark.parametrize("backend", ["highs", "scipy", None])
@pytest.mark.parametrize("delta", [1.0, 1e-9, 1e-200, 0.0, -1e-300])
def test_interior_triangle(backend, delta):
    # x > 0, y > 0, x + y < delta: nonempty iff delta > 0 (in 2-D, with a box around it).
    G, h = with_box([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]], [0.0, 0.0, delta], -2.0, 2.0)
    cert = decide_interior(G, h, backend=backend)
    assert cert.nonempty == (delta > 0)
    if cert.nonempty:
        assert check_interior_point(G, h, cert.point)
        x, y = cert.point.to_fractions()
        assert x > 0 and y > 0 and x + y < Fraction(delta)
    else:
        assert check_farkas(G, h, cert.farkas)


def test_interior_hint_is_used_and_checked():
    G, h = [[1.0], [-1.0]], [1.0, 1.0]
    assert decide_interior(G, h, hint=[0.5]).method == "hint"
    cert = decide_interior(G, h, hint=[1.0])  # on the boundary: not a certificate
    assert cert.method != "hint" and cert.nonempty


def test_interior_unbounded_and_zero_rows():
    # x > 5 (unbounded) with a row 0 < 1: nonempty; with 0 < 0: empty, certified by that row alone.
    cert = decide_interior([[-1.0], [0.0]], [-5.0, 1.0])
    assert cert.nonempty and cert.point.to_fractions()[0] > 5
    cert = decide_interior([[-1.0], [0.0]], [-5.0, 0.0])
    assert not cert.nonempty and check_farkas([[-1.0], [0.0]], [-5.0, 0.0], cert.farkas)


def test_check_farkas_rejects_non_certificates():
    G, h = [[1.0], [-1.0]], [0.0, 0.0]
    assert check_farkas(G, h, RationalVector((1, 1), 1))
    assert not check_farkas(G, h, RationalVector((0, 0), 1))
    assert not check_farkas(G, h, RationalVector((1, 2), 1))  # y G != 0
    assert not check_farkas([[1.0], [-1.0]], [1e-300, 0.0], RationalVector((1, 1), 1))  # y h > 0
    assert not check_farkas(G, h, RationalVector((-1, -1), 1))


@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(1, 8))
def test_interior_random_agrees_between_paths(seed, d, m):
    # The float-basis path and the exact-simplex-only path must agree, and each certificate must check.
    rng = np.random.default_rng(seed)
    G = np.round(rng.standard_normal((m, d)), 2)
    h = np.round(rng.standard_normal(m), 2)
    a = decide_interior(G, h)
    b = decide_interior(G, h, backend=None)
    assert a.nonempty == b.nonempty
    for cert in (a, b):
        if cert.nonempty:
            assert check_interior_point(G, h, cert.point)
        else:
            assert check_farkas(G, h, cert.farkas)
    if a.margin is not None and b.margin is not None:
        assert a.margin == b.margin


def _lp_min_x_plus_y():
    # min x + y  s.t.  x + 2 y >= 2,  x, y >= 0: optimum 1 at (0, 1), row dual 1/2.
    return LinearProgram(c=[1.0, 1.0], A=[[1.0, 2.0]], row_lower=[2.0], col_lower=0.0)


def test_verify_basis_of_highs_optimum():
    lp = _lp_min_x_plus_y()
    with open_solver(lp) as s:
        s.solve()
        basis = s.get_basis()
    chk = verify_basis(lp, basis)
    assert chk.optimal and chk.objective == 1
    assert chk.x.to_fractions() == (0, 1)
    assert chk.row_duals.to_fractions() == (Fraction(1, 2),)


def test_verify_basis_rejects_a_suboptimal_basis():
    lp = _lp_min_x_plus_y()
    # x basic, y at lower bound, row at lower bound: the vertex (2, 0), objective 2, not optimal.
    basis = LPBasis(np.array([1, 0], dtype=np.int8), np.array([0], dtype=np.int8))
    chk = verify_basis(lp, basis)
    assert chk.primal_feasible and not chk.dual_feasible and chk.objective == 2
    # A basis with the wrong number of nonbasic entries is refused with a reason.
    chk = verify_basis(lp, LPBasis(np.array([1, 1], dtype=np.int8), np.array([1], dtype=np.int8)))
    assert not chk.optimal and "expected 2" in chk.message


def test_check_lp_optimum_exactly():
    lp = _lp_min_x_plus_y()
    assert check_lp_optimum(lp, RationalVector((0, 1), 1), RationalVector((1,), 2)).optimal
    # right point, wrong dual: the reduced cost of y is 1 - 2 * 1 = -1 < 0 at its lower bound
    assert not check_lp_optimum(lp, RationalVector((0, 1), 1), RationalVector((1,), 1)).optimal
    # a point a hair infeasible: (0, 1 - 2^-60)
    assert not check_lp_optimum(lp, RationalVector((0, 2**60 - 1), 2**60), RationalVector((1,), 2)).primal_feasible


@pytest.mark.parametrize(
    ("lp", "status", "objective"),
    [
        (_lp_min_x_plus_y(), ExactStatus.OPTIMAL, Fraction(1)),
        # max x + y on the triangle x, y >= 0, x + y <= 1/3 (float 1/3): optimum = float(1/3) exactly
        (
            LinearProgram(c=[-1.0, -1.0], A=[[1.0, 1.0]], row_upper=[1 / 3], col_lower=0.0),
            ExactStatus.OPTIMAL,
            -Fraction(1 / 3),
        ),
        # ranged row, free and upper-bounded columns: min x - y, -1 <= x + y <= 1, y <= 0.25, x free
        # -> x + y = -1 at y = 0.25: x = -1.25, objective -1.5
        (
            LinearProgram(c=[1.0, -1.0], A=[[1.0, 1.0]], row_lower=[-1.0], row_upper=[1.0], col_upper=[np.inf, 0.25]),
            ExactStatus.OPTIMAL,
            Fraction(-3, 2),
        ),
        (
            LinearProgram(c=[1.0], A=[[1.0], [1.0]], row_lower=[1.0, -np.inf], row_upper=[np.inf, 0.0]),
            ExactStatus.INFEASIBLE,
            None,
        ),
        (LinearProgram(c=[-1.0], col_lower=[0.0]), ExactStatus.UNBOUNDED, None),
        # equality rows, one redundant: x + y = 1, 2x + 2y = 2, min x -> (0, 1)
        (
            LinearProgram(
                c=[1.0, 0.0], A=[[1.0, 1.0], [2.0, 2.0]], row_lower=[1.0, 2.0], row_upper=[1.0, 2.0], col_lower=0.0
            ),
            ExactStatus.OPTIMAL,
            Fraction(0),
        ),
    ],
)
def test_solve_exact_known_lps(lp, status, objective):
    sol = solve_exact(lp)
    assert sol.status is status
    if status is ExactStatus.OPTIMAL:
        assert sol.check.optimal and sol.check.objective == objective


def test_interior_of_exact_rows_beyond_float64():
    # 1/3 - 10^-30 < x < 1/3: nonempty; no float64 row can say it.  x < 1/3 and x > 1/3: empty.
    third = Fraction(1, 3)
    G = np.array([[1], [-1]], dtype=object)
    cert = decide_interior(G, np.array([third, -(third - Fraction(1, 10**30))], dtype=object))
    assert cert.nonempty
    (x,) = cert.point.to_fractions()
    assert third - Fraction(1, 10**30) < x < third
    h = np.array([third, -third], dtype=object)
    cert = decide_interior(G, h)
    assert not cert.nonempty and check_farkas(G, h, cert.farkas)
    assert cert.farkas.to_fractions()[0] == cert.farkas.to_fractions()[1]  # y = (1, 1) up to scale


def test_integer_rows_scale_each_row_positively():
    rows = integer_rows([[0.5, -0.25]], [0.125])
    assert rows.G == ((4, -2),) and rows.h == (1,) and rows.scale == (8,)


# ------------------------------------------------------------------ decide_bounded (lp.exact.cone)
def test_decide_bounded_on_shapes_with_known_answers() -> None:
    from fractions import Fraction

    from lpengine.lp.exact import decide_bounded

    tri = decide_bounded([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    assert tri.bounded and tri.multipliers == (1, 1, 1)
    assert not decide_bounded([[1.0, 0.0], [-1.0, 0.0]]).bounded  # a strip (a line of directions)
    quad = decide_bounded([[1.0, 0.0], [0.0, 1.0]])  # a quadrant: -(1, 1) recedes
    assert not quad.bounded and quad.direction is not None
    # x1 <= 0, x2 <= 0 and -x1 + e x2 <= 0: with e = 1e-300 the cone keeps u = (-e, -1); with -e it is {0}.
    far = decide_bounded([[1.0, 0.0], [0.0, 1.0], [-1.0, 1e-300]])
    assert not far.bounded
    u = far.direction
    assert u is not None and u[0] <= 0 and u[1] <= 0 and -u[0] + Fraction(1e-300) * u[1] <= 0
    assert decide_bounded([[1.0, 0.0], [0.0, 1.0], [-1.0, -1e-300]]).bounded


def test_direction_near_makes_constant_rows_exactly_zero() -> None:
    from lpengine.lp.exact import direction_near

    # A slab |x1| <= c in R^3 cut by x3 >= ...: recession cone {u : u1 = 0, u3 >= 0}.  Rows 0 and 1 are
    # constant along the cone; a float guess off by 1e-17 in u1 fails them in exact arithmetic.
    A = [[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, -1.0]]
    guess = [1e-17, 0.6, 0.8]
    v = direction_near(A, guess, [True, True, False])
    assert v is not None
    assert v[0] == 0 and v[2] > 0 and max(abs(x) for x in v) == 1
    # Checked by hand: every row times v is <= 0.
    assert all(sum(Fraction(a) * x for a, x in zip(row, v, strict=True)) <= 0 for row in A)
    # Without the hint the exact check refuses the guess (row 0 gives 1e-17 > 0): no answer, not a wrong one.
    assert direction_near(A, guess, [False, False, False]) is None


def test_direction_near_never_answers_for_a_bounded_polyhedron() -> None:
    from lpengine.lp.exact import direction_near

    tri = [[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]  # a triangle: no recession direction exists
    rng = np.random.default_rng(3)
    for _ in range(50):
        guess = rng.standard_normal(2)
        zero = rng.random(3) < 0.4
        assert direction_near(tri, guess, zero) is None


def test_direction_near_agrees_with_decide_bounded_on_random_rows() -> None:
    from lpengine.lp.exact import decide_bounded, direction_near

    rng = np.random.default_rng(11)
    found = 0
    for _ in range(80):
        m, d = int(rng.integers(2, 7)), int(rng.integers(2, 4))
        # Small integer rows with repeats and zero columns: rows constant along the cone happen often.
        G = rng.integers(-2, 3, size=(m, d)).astype(float)
        guess = rng.standard_normal(d)
        zero = np.abs(G @ guess) < 0.5
        v = direction_near(G, guess, zero)
        if v is None:
            continue
        found += 1
        # A returned direction is a recession direction of the exact rows (checked with Fractions here) ...
        assert any(v)
        assert all(sum(Fraction(a) * x for a, x in zip(row, v, strict=True)) <= 0 for row in G.tolist())
        # ... so the exact decision must call the polyhedron unbounded.
        assert not decide_bounded(G).bounded
    assert found >= 5  # the test exercises the positive answer, not only None


def test_decide_bounded_agrees_with_the_positive_spanning_lp_on_random_rows() -> None:
    from scipy.optimize import linprog

    from lpengine.lp.exact import decide_bounded

    rng = np.random.default_rng(5)
    for _ in range(60):
        m, d = int(rng.integers(1, 8)), int(rng.integers(1, 4))
        G = rng.standard_normal((m, d))
        cert = decide_bounded(G)
        # Well-conditioned Gaussian rows: the float LP (lam >= 1, G^T lam = 0) and the rank decide reliably.
        lp = linprog(np.zeros(m), A_eq=G.T, b_eq=np.zeros(d), bounds=[(1, None)] * m, method="highs")
        assert cert.bounded == (lp.status == 0 and np.linalg.matrix_rank(G) == d)
        if cert.bounded:
            assert cert.multipliers is not None and min(cert.multipliers) > 0
        else:
            assert cert.direction is not None and np.all(G @ np.array([float(v) for v in cert.direction]) <= 1e-12)
