"""Exact rational arithmetic for borderline LP decisions: library choice and cost per step.

Usage: python benchmarks/bench_exact.py [--repeat 200]

Table 1 compares rational libraries on the two operations the exact toolkit
needs (a d x d solve from float data, conversions included; an m x d exact
matrix-vector product; "filter+int" is lpengine's sign test: a float error
bound first, Python integers for the rows it leaves open).  Table 2 times each step of
:func:`lpengine.lp.exact.decide_interior` on a typical region (d = 3, 20 rows)
against one float Chebyshev LP with HiGHS, as a ratio.
"""

from __future__ import annotations

import argparse
import timeit
from fractions import Fraction

import flint
import gmpy2
import numpy as np

from lpengine.lp import LinearProgram, open_solver
from lpengine.lp.exact import RationalVector, check_interior_point, decide_interior


def _gauss(M: list[list[object]], n: int) -> list[object]:
    for i in range(n):
        p = next(r for r in range(i, n) if M[r][i] != 0)
        M[i], M[p] = M[p], M[i]
        for r in range(n):
            if r != i and M[r][i] != 0:
                f = M[r][i] / M[i][i]
                M[r] = [x - f * y for x, y in zip(M[r], M[i], strict=True)]
    return [M[i][n] / M[i][i] for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n = 5
    A = rng.standard_normal((n, n))
    b = rng.standard_normal(n)
    G = rng.standard_normal((40, 4))
    x = rng.standard_normal(4)

    def frac_solve() -> object:
        return _gauss(
            [[Fraction(v) for v in row] + [Fraction(bb)] for row, bb in zip(A.tolist(), b.tolist(), strict=True)], n
        )

    def gmpy_solve() -> object:
        return _gauss(
            [[gmpy2.mpq(v) for v in row] + [gmpy2.mpq(bb)] for row, bb in zip(A.tolist(), b.tolist(), strict=True)], n
        )

    def flint_solve() -> object:
        q = lambda v: flint.fmpq(*v.as_integer_ratio())  # noqa: E731
        return flint.fmpq_mat([[q(v) for v in row] for row in A.tolist()]).solve(
            flint.fmpq_mat([[q(v)] for v in b.tolist()])
        )

    def frac_matvec() -> object:
        xs = [Fraction(v) for v in x.tolist()]
        return [sum(Fraction(g) * xi for g, xi in zip(row, xs, strict=True)) for row in G.tolist()]

    def flint_matvec() -> object:
        q = lambda v: flint.fmpq(*v.as_integer_ratio())  # noqa: E731
        return flint.fmpq_mat([[q(v) for v in row] for row in G.tolist()]) * flint.fmpq_mat(
            [[q(v)] for v in x.tolist()]
        )

    def dyadic_matvec() -> object:
        return check_interior_point(G, np.full(40, 1e3), x)

    r = args.repeat
    t = lambda f: timeit.timeit(f, number=r) / r * 1e6  # noqa: E731
    print("Table 1: rational libraries (microseconds, conversions from float64 included)")
    print(f"{'operation':32s} {'Fraction':>10s} {'gmpy2 mpq':>10s} {'flint':>10s} {'filter+int':>10s}")
    print(f"{'5x5 solve':32s} {t(frac_solve):10.1f} {t(gmpy_solve):10.1f} {t(flint_solve):10.1f} {'-':>10s}")
    print(
        f"{'40x4 mat-vec (signs)':32s} {t(frac_matvec):10.1f} {'-':>10s} {t(flint_matvec):10.1f} {t(dyadic_matvec):10.1f}"
    )

    # A typical region: d = 3, 20 random rows around a point, plus nothing else.
    d, m = 3, 20
    Gr = rng.standard_normal((m, d))
    hr = np.abs(rng.standard_normal(m)) + 0.1
    cost = np.zeros(d + 1)
    cost[d] = -1.0
    norms = np.linalg.norm(Gr, axis=1)
    lp = LinearProgram(
        c=cost,
        A=np.hstack([Gr / norms[:, None], np.ones((m, 1))]),
        row_upper=hr / norms,
        col_upper=np.concatenate([np.full(d, np.inf), [1.0]]),
    )

    def float_lp() -> object:
        with open_solver(lp) as s:
            return s.solve()

    centre = float_lp().x[:d]  # type: ignore[index]
    base = t(float_lp)
    rows = [
        ("float Chebyshev LP (HiGHS, cold)", base),
        ("exact check of the float centre", t(lambda: decide_interior(Gr, hr, hint=centre))),
        ("HiGHS LP + exact basis check", t(lambda: decide_interior(Gr, hr))),
        ("exact simplex only", t(lambda: decide_interior(Gr, hr, backend=None))),
        (
            "exact check, empty (Farkas via basis)",
            t(lambda: decide_interior(np.vstack([Gr, -Gr[:1]]), np.concatenate([hr, -hr[:1]]))),
        ),
    ]
    print(f"\nTable 2: decide_interior steps, d = {d}, {m} rows (microseconds; ratio to one float LP)")
    for name, us in rows:
        print(f"{name:40s} {us:10.1f} {us / base:8.2f}x")
    _ = RationalVector


if __name__ == "__main__":
    main()
