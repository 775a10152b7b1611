"""LAD / quantile regression: lpengine.lad vs scikit-learn (HiGHS LP) vs R quantreg Barrodale-Roberts.

Run:  python benchmarks/bench_lad.py [--sizes 10000 100000] [--repeat 3]

Benchmark-only dependencies (skipped with a note when missing): scikit-learn
(pip install scikit-learn) and R with quantreg (apt-get install r-cran-quantreg).
BLAS is pinned to one thread for all Python timings (a fair single-core comparison;
R's rq.fit.br is single-threaded Fortran).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import shutil
import subprocess
import tempfile
import time

import numpy as np

from lpengine.simplex import lad


def objective(X, y, coef, icpt, q):
    r = X @ coef + icpt - y
    wp, wm = (1.0, 1.0) if q == 0.5 else (1.0 - q, q)
    return float(wp * np.maximum(r, 0).sum() + wm * np.maximum(-r, 0).sum())


def best_time(fn, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def run_sklearn(X, y, q, repeat):
    try:
        from sklearn.linear_model import QuantileRegressor
    except ImportError:
        return None, None

    def fit():
        m = QuantileRegressor(quantile=q, alpha=0.0, solver="highs").fit(X, y)
        return m.coef_, m.intercept_

    t, (c, b) = best_time(fit, repeat)
    return t, objective(X, y, c, b, q)


def run_quantreg(X, y, q, repeat):
    if shutil.which("Rscript") is None:
        return None, None
    with tempfile.TemporaryDirectory() as d:
        np.savetxt(os.path.join(d, "d.csv"), np.c_[X, y], delimiter=",")
        script = os.path.join(d, "run.R")
        with open(script, "w") as fh:
            fh.write(
                "suppressMessages(library(quantreg))\n"
                f"M <- as.matrix(read.csv('{d}/d.csv', header=FALSE)); p <- ncol(M)\n"
                "X <- cbind(M[, 1:(p-1)], 1); y <- M[, p]\n"
                f"best <- Inf; for (k in 1:{repeat}) {{ t <- system.time(f <- rq.fit.br(X, y, tau={q}))[['elapsed']];"
                " best <- min(best, t) }\n"
                "cat(best, f$coefficients, '\\n')\n"
            )
        try:
            out = subprocess.run(["Rscript", script], capture_output=True, text=True, timeout=1200, check=True).stdout
        except (subprocess.SubprocessError, OSError) as exc:
            print(f"  quantreg failed: {exc}")
            return None, None
    vals = [float(v) for v in out.split()]
    coef = np.array(vals[1:-1])
    return vals[0], objective(X, y, coef, vals[-1], q)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--quantiles", type=float, nargs="+", default=[0.5, 0.8])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--sklearn-max-n",
        type=int,
        default=20_000,
        help="skip scikit-learn above this n (its HiGHS LP takes minutes at n = 1e5)",
    )
    a = ap.parse_args()
    rows = []
    for n in a.sizes:
        rng = np.random.default_rng(a.seed)
        X = rng.uniform(0, 1, (n, 4))
        y = rng.uniform(0, 1, n)
        for q in a.quantiles:
            rep = a.repeat if n <= 20_000 else 1
            t_ours, res = best_time(lambda: lad(X, y, q), rep)
            f_ours = objective(X, y, res.coef, res.intercept, q)
            t_sk, f_sk = run_sklearn(X, y, q, rep) if n <= a.sklearn_max_n else (None, None)
            t_br, f_br = run_quantreg(X, y, q, rep)
            rows.append((n, q, t_ours, res.nit, res.certified, f_ours, t_sk, f_sk, t_br, f_br))
            print(f"done n={n} q={q}", flush=True)
    fmt = lambda v: "   n/a" if v is None else f"{v:8.4f}"  # noqa: E731
    rel = lambda f, g: "   n/a" if g is None else f"{(f - g) / abs(g):+.1e}"  # noqa: E731
    ratio = lambda t, u: "   n/a" if t is None else f"{t / u:7.1f}x"  # noqa: E731
    print("\nLAD / quantile regression, p = 4 features + intercept, X, y ~ U(0,1); wall seconds (best of repeats)")
    print(
        f"{'n':>7} {'q':>4} | {'lpengine':>8} {'pivots':>6} {'cert':>5} | {'sklearn':>8} {'skl/ours':>8} | "
        f"{'br (R)':>8} {'br/ours':>8} | {'obj vs skl':>10} {'obj vs br':>10}"
    )
    for n, q, t, nit, cert, f, tsk, fsk, tbr, fbr in rows:
        print(
            f"{n:>7} {q:>4} | {t:8.4f} {nit:>6} {str(cert):>5} | {fmt(tsk)} {ratio(tsk, t):>8} | "
            f"{fmt(tbr)} {ratio(tbr, t):>8} | {rel(f, fsk):>10} {rel(f, fbr):>10}"
        )


if __name__ == "__main__":
    main()
