"""A small exact simplex: the fallback when a float basis does not verify.

Dense two-phase tableau simplex over python-flint rationals, with Bland's rule
(smallest index enters, smallest basic index leaves among ties), which never
cycles (Bland 1977).  It solves the standard form

    minimise c.y  s.t.  A y = b,  y >= 0

exactly.  :func:`solve_exact` brings any :class:`~lpengine.lp.LinearProgram` to
that form, solves it, maps the answer back, and checks it with
:func:`~lpengine.lp.exact.lpcheck.check_lp_optimum` (the certificate never rests
on this code alone).

Cost: O(pivots * rows * columns) rational operations.  Meant for the small LPs
of region decisions (tens of rows and columns), not for large models.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..problem import LinearProgram
from .lpcheck import ExactLPCheck, check_lp_optimum, fmpq_of
from .rational import RationalVector

__all__ = ["ExactStatus", "StandardFormSolution", "solve_standard_form", "ExactLPSolution", "solve_exact"]


class ExactStatus(enum.Enum):
    """Outcome of an exact solve."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"


@dataclass(frozen=True)
class StandardFormSolution:
    """Exact solution of ``min c.y s.t. A y = b, y >= 0``.

    Attributes
    ----------
    status : ExactStatus
    y : list of fmpq or None
        Optimal primal point (``OPTIMAL`` only).
    duals : list of fmpq or None
        ``pi`` with ``A^T pi <= c`` and ``pi.b = c.y`` (``OPTIMAL`` only).
    objective : fmpq or None
    pivots : int
        Simplex pivots made (both phases).
    """

    status: ExactStatus
    y: list[Any] | None
    duals: list[Any] | None
    objective: Any
    pivots: int


def _pivot(T: list[list[Any]], r: int, k: int) -> None:
    piv = T[r][k]
    row = [v / piv for v in T[r]]
    T[r] = row
    for i, other in enumerate(T):
        if i != r:
            f = other[k]
            if f != 0:
                T[i] = [a - f * b for a, b in zip(other, row, strict=True)]


def _run(T: list[list[Any]], basis: list[int], cost: list[Any], allowed: int) -> tuple[bool, int]:
    """Bland's-rule simplex on tableau ``T`` (last column rhs) for ``min cost.y``.

    Only columns ``< allowed`` may enter.  Returns (bounded, pivots).
    """
    pivots = 0
    m = len(T)
    while True:
        cb = [cost[b] for b in basis]
        enter = -1
        for j in range(allowed):
            if j in basis:
                continue
            red = cost[j] - sum((cb[i] * T[i][j] for i in range(m) if T[i][j] != 0), 0 * cost[j])
            if red < 0:
                enter = j
                break
        if enter < 0:
            return True, pivots
        best = -1
        best_ratio = None
        for i in range(m):
            a = T[i][enter]
            if a > 0:
                ratio = T[i][-1] / a
                if best < 0 or ratio < best_ratio or (ratio == best_ratio and basis[i] < basis[best]):
                    best, best_ratio = i, ratio
        if best < 0:
            return False, pivots
        _pivot(T, best, enter)
        basis[best] = enter
        pivots += 1


def solve_standard_form(A: list[list[Any]], b: list[Any], c: list[Any]) -> StandardFormSolution:
    """Solve ``min c.y s.t. A y = b, y >= 0`` exactly (two phases, Bland's rule).

    Parameters
    ----------
    A : list of list of fmpq, shape (m, n)
    b : list of fmpq, shape (m,)
    c : list of fmpq, shape (n,)

    Returns
    -------
    StandardFormSolution
    """
    import flint

    zero, one = flint.fmpq(0), flint.fmpq(1)
    m, n = len(A), len(c)
    # Phase 1: rows with b >= 0, one artificial per row (columns n .. n+m-1).
    T: list[list[Any]] = []
    for i in range(m):
        sgn = -1 if b[i] < 0 else 1
        T.append([sgn * v for v in A[i]] + [one if k == i else zero for k in range(m)] + [sgn * b[i]])
    basis = list(range(n, n + m))
    cost1 = [zero] * n + [one] * m
    _, piv1 = _run(T, basis, cost1, n)
    if sum((T[i][-1] for i in range(m) if basis[i] >= n), zero) > 0:
        return StandardFormSolution(ExactStatus.INFEASIBLE, None, None, None, piv1)
    # Drive artificials (all at value 0) out of the basis; drop rows that are redundant.
    keep = []
    for i in range(m):
        if basis[i] >= n:
            k = next((j for j in range(n) if T[i][j] != 0), -1)
            if k < 0:
                continue
            _pivot(T, i, k)
            basis[i] = k
            piv1 += 1
        keep.append(i)
    T = [T[i] for i in keep]
    basis = [basis[i] for i in keep]
    cost2 = list(c) + [zero] * m
    bounded, piv2 = _run(T, basis, cost2, n)
    if not bounded:
        return StandardFormSolution(ExactStatus.UNBOUNDED, None, None, None, piv1 + piv2)
    y = [zero] * n
    for i, bi in enumerate(basis):
        y[bi] = T[i][-1]
    # Duals from B^T pi = c_B on the kept (independent) original rows; dropped rows get 0.
    duals = [zero] * m
    if keep:
        B = flint.fmpq_mat([[A[i][bj] for bj in basis] for i in keep])
        pi = B.transpose().solve(flint.fmpq_mat(len(basis), 1, [c[bj] for bj in basis]))
        for t, i in enumerate(keep):
            duals[i] = pi[t, 0]
    obj = sum((ci * yi for ci, yi in zip(c, y, strict=True)), zero)
    return StandardFormSolution(ExactStatus.OPTIMAL, y, duals, obj, piv1 + piv2)


@dataclass(frozen=True)
class ExactLPSolution:
    """Exact solution of a :class:`~lpengine.lp.LinearProgram`.

    Attributes
    ----------
    status : ExactStatus
    check : ExactLPCheck or None
        For ``OPTIMAL``: the independent exact check of the optimum (always
        ``check.optimal``; a failed check raises instead).
    pivots : int
    """

    status: ExactStatus
    check: ExactLPCheck | None
    pivots: int


def solve_exact(lp: LinearProgram) -> ExactLPSolution:
    """Solve ``lp`` in exact rational arithmetic (its float64 data read exactly).

    Parameters
    ----------
    lp : LinearProgram

    Returns
    -------
    ExactLPSolution
        With the optimum certified by :func:`check_lp_optimum`.

    Raises
    ------
    ArithmeticError
        If the optimum found fails its exact check (a bug, never a tolerance).

    Notes
    -----
    Standard form: a column with a finite lower bound becomes ``x = l + u``
    (plus a row ``u + s = up - l`` if the upper bound is finite too), a column
    with only an upper bound ``x = up - u``, a free column ``x = u+ - u-``; each
    finite side of a row gets its own slack.  The row duals are read from the
    standard-form duals (sum of the two sides' multipliers).
    """
    import flint

    zero, one = flint.fmpq(0), flint.fmpq(1)
    m, n = lp.n_rows, lp.n_cols
    dense = lp.A.toarray() if m else np.zeros((0, n))
    Aq = [[fmpq_of(v) for v in row] for row in dense.tolist()]
    cq = [fmpq_of(v) for v in lp.c.tolist()]
    # x_j = const_j + sum_k sub[j][k] * u_k
    cols: list[list[tuple[int, int]]] = []  # per x_j: list of (u index, +-1)
    const: list[Any] = []
    nu = 0
    extra_rows: list[tuple[int, Any]] = []  # (u index, range) for u <= range
    for j in range(n):
        lo, hi = float(lp.col_lower[j]), float(lp.col_upper[j])
        if lo != -np.inf:
            cols.append([(nu, 1)])
            const.append(fmpq_of(lo))
            if hi != np.inf:
                extra_rows.append((nu, fmpq_of(hi) - fmpq_of(lo)))
            nu += 1
        elif hi != np.inf:
            cols.append([(nu, -1)])
            const.append(fmpq_of(hi))
            nu += 1
        else:
            cols.append([(nu, 1), (nu + 1, -1)])
            const.append(zero)
            nu += 2
    std_rows: list[tuple[list[Any], Any, int, int]] = []  # (coeffs over u, rhs, source row, slack sign)
    for i in range(m):
        coeff = [zero] * nu
        shift = zero
        for j in range(n):
            a = Aq[i][j]
            if a == 0:
                continue
            shift += a * const[j]
            for k, s in cols[j]:
                coeff[k] += s * a
        lo, hi = float(lp.row_lower[i]), float(lp.row_upper[i])
        if lo == hi:
            std_rows.append((coeff, fmpq_of(lo) - shift, i, 0))
            continue
        if hi != np.inf:
            std_rows.append((coeff, fmpq_of(hi) - shift, i, 1))
        if lo != -np.inf:
            std_rows.append((coeff, fmpq_of(lo) - shift, i, -1))
    for k, rng in extra_rows:
        coeff = [zero] * nu
        coeff[k] = one
        std_rows.append((coeff, rng, -1, 1))
    n_slack = sum(1 for r in std_rows if r[3] != 0)
    A_std: list[list[Any]] = []
    b_std: list[Any] = []
    s_idx = 0
    for coeff, rhs, _, sgn in std_rows:
        slack = [zero] * n_slack
        if sgn != 0:
            slack[s_idx] = flint.fmpq(sgn)
            s_idx += 1
        A_std.append(coeff + slack)
        b_std.append(rhs)
    c_std = [zero] * (nu + n_slack)
    for j in range(n):
        for k, s in cols[j]:
            c_std[k] += s * cq[j]
    sol = solve_standard_form(A_std, b_std, c_std)
    if sol.status is not ExactStatus.OPTIMAL:
        return ExactLPSolution(sol.status, None, sol.pivots)
    assert sol.y is not None and sol.duals is not None
    x = [const[j] + sum((s * sol.y[k] for k, s in cols[j]), zero) for j in range(n)]
    y = [zero] * m
    for (_, _, src, _), pi in zip(std_rows, sol.duals, strict=True):
        if src >= 0:
            y[src] += pi
    check = check_lp_optimum(lp, RationalVector.from_fractions(x), RationalVector.from_fractions(y))
    if not check.optimal:
        raise ArithmeticError(f"solve_exact: the exact simplex optimum failed its check ({check.message}).")
    return ExactLPSolution(ExactStatus.OPTIMAL, check, sol.pivots)
