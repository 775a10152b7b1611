"""LAD / quantile regression, side by side in one run: lpengine.lad vs R quantreg (fn, br), HiGHS, scikit-learn.

Run:  python benchmarks/bench_lad.py            # short: n = 1e4, 1e5; p = 5, 20; tau = 0.5, 0.9
      python benchmarks/bench_lad.py --full     # n = 1e4, 1e5, 1e6; p = 5, 20, 100

Data: X ~ N(0, 1)^(n x (p-1)) plus an intercept column (p coefficients), y = X b + Cauchy noise.
Every solver gets the same data.  Times are the median wall seconds of the fit call over
--repeat runs (R times its own rq.fit calls, so R's start-up and data loading are not counted).

Columns
- lpengine: lad(X, y, tau); "proved" = the exact dual certificate holds (success=True).
- fn, br: R quantreg rq.fit(method="fn") (Frisch-Newton interior point) and "br" (Barrodale-Roberts
  simplex); optional: skipped with a note when Rscript or quantreg is missing
  (apt-get install r-cran-quantreg).
- HiGHS: the LP dual (max y.w, X^T w = 0, tau-1 <= w <= tau) by HiGHS's interior point with
  crossover (scipy.optimize.linprog method="highs-ipm"); beta from the equality duals.
- sklearn: QuantileRegressor(quantile=tau, alpha=0, solver="highs") (the primal LP), only up to
  n p = --sklearn-max-np (it takes minutes beyond).  br and HiGHS have such limits too (a dash
  in the table: not run).
- gap: (loss of the solver's coefficients - LP optimum) / LP optimum, where the LP optimum is the
  exact rational loss at lpengine's proved vertex; losses of the others are evaluated in float64
  (error ~1e-16 relative), so gaps below ~1e-14 read as 0.
- exponent: slope of log(time) against log(n) over the sizes run, per (p, tau).

BLAS is pinned to one thread everywhere (a single-core comparison; R's quantreg Fortran is serial).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
import warnings

import numpy as np

from lpengine.simplex import lad
from lpengine.simplex.lad_certificate import exact_loss

R_SCRIPT = r"""
suppressMessages(library(quantreg))
args <- commandArgs(trailingOnly = TRUE)
n <- as.integer(args[2]); p <- as.integer(args[3]); tau <- as.numeric(args[4]); reps <- as.integer(args[5])
methods <- strsplit(args[6], ",")[[1]]
con <- file(args[1], "rb"); M <- readBin(con, "double", n * (p + 1)); close(con)
M <- matrix(M, nrow = n, byrow = TRUE); X <- M[, 1:p, drop = FALSE]; y <- M[, p + 1]
for (m in methods) {
  ts <- c()
  for (k in 1:reps) {
    t <- system.time(f <- rq.fit(X, y, tau = tau, method = m))[["elapsed"]]
    ts <- c(ts, t)
  }
  cat(m, median(ts), f$coefficients, "\n")
}
"""


def loss(H, y, beta, tau):
    r = y - H @ beta
    return float(np.maximum(tau * r, (tau - 1.0) * r).sum())


def median_time(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def r_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    ok = subprocess.run(["Rscript", "-e", "library(quantreg)"], capture_output=True, timeout=120)
    return ok.returncode == 0


def run_r(H, y, tau, methods, repeat, timeout):
    """{method: (seconds, beta)} from R quantreg, timed inside R."""
    n, p = H.shape
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "d.bin")
        np.ascontiguousarray(np.c_[H, y]).astype("<f8").tofile(data)
        script = os.path.join(d, "run.R")
        with open(script, "w") as fh:
            fh.write(R_SCRIPT)
        cmd = ["Rscript", script, data, str(n), str(p), repr(tau), str(repeat), ",".join(methods)]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True).stdout
        except subprocess.TimeoutExpired:
            return {m: ("timeout", None) for m in methods}
        except (subprocess.SubprocessError, OSError) as exc:
            print(f"  quantreg failed: {exc}")
            return {}
    res = {}
    for line in out.strip().splitlines():
        parts = line.split()
        res[parts[0]] = (float(parts[1]), np.array([float(v) for v in parts[2:]]))
    return res


def run_highs(H, y, tau):
    from scipy.optimize import linprog

    n, p = H.shape
    res = linprog(-y, A_eq=H.T, b_eq=np.zeros(p), bounds=(tau - 1.0, tau), method="highs-ipm")
    if res.status != 0:
        return None
    beta = np.asarray(res.eqlin.marginals, dtype=float)
    # The equality duals are beta up to the sign convention of the solver: take the one that fits.
    return beta if loss(H, y, beta, tau) <= loss(H, y, -beta, tau) else -beta


def run_sklearn(X, y, tau):
    from sklearn.linear_model import QuantileRegressor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = QuantileRegressor(quantile=tau, alpha=0.0, solver="highs").fit(X, y)
    return np.r_[m.coef_, m.intercept_]


def fmt_t(v):
    if v is None:
        return "     -"
    if v == "timeout":
        return " >tout"
    return f"{v:6.3f}" if v < 10 else f"{v:6.1f}"


def fmt_ratio(v, ours):
    if v is None or v == "timeout":
        return "    -"
    return f"{v / ours:5.1f}x" if v / ours < 100 else f"{v / ours:5.0f}x"


def fmt_gap(g):
    if g is None:
        return "      -"
    return "      0" if abs(g) < 1e-15 else f"{g:7.0e}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="n = 1e4, 1e5, 1e6 and p = 5, 20, 100")
    ap.add_argument("--sizes", type=int, nargs="+", help="override n")
    ap.add_argument("--p", type=int, nargs="+", help="override p (coefficients, intercept included)")
    ap.add_argument("--quantiles", type=float, nargs="+", default=[0.5, 0.9])
    ap.add_argument("--repeat", type=int, default=3, help="runs per timing (median); 1 for n >= 1e6")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sklearn-max-np", type=float, default=2e5, help="skip scikit-learn when n * p is larger")
    ap.add_argument("--highs-max-np", type=float, default=2e7, help="skip HiGHS when n * p is larger")
    ap.add_argument("--br-max-np", type=float, default=2e6, help="skip quantreg br when n * p is larger")
    ap.add_argument("--fn-max-np", type=float, default=1e9, help="skip quantreg fn when n * p is larger")
    ap.add_argument("--r-timeout", type=float, default=1800.0, help="seconds per R call")
    a = ap.parse_args()
    sizes = a.sizes or ([10_000, 100_000, 1_000_000] if a.full else [10_000, 100_000])
    ps = a.p or ([5, 20, 100] if a.full else [5, 20])
    have_r = r_available()
    if not have_r:
        print("R quantreg not found (apt-get install r-cran-quantreg): the fn / br columns are skipped.")
    rows = []
    for p in ps:
        for n in sizes:
            rng = np.random.default_rng(a.seed)
            X = rng.standard_normal((n, p - 1))
            H = np.hstack([X, np.ones((n, 1))])
            y = H @ rng.standard_normal(p) + rng.standard_cauchy(n)
            rep = a.repeat if n < 1_000_000 else 1
            for tau in a.quantiles:
                t_ours, res = median_time(lambda: lad(X, y, tau), rep)
                opt = exact_loss(H, y, None, tau, res.certificate.beta)  # untimed: the proved LP optimum
                optf = float(opt)

                def gap(beta):
                    return None if beta is None else (loss(H, y, beta, tau) - optf) / optf

                ours_gap = float((exact_loss(H, y, None, tau, [float(b) for b in res.x]) - opt) / opt)
                row = {"n": n, "p": p, "tau": tau, "ours": t_ours, "proved": res.success, "gap": ours_gap}
                row["method"] = f"{res.method}/{res.nit}"
                if have_r:
                    methods = (["fn"] if n * p <= a.fn_max_np else []) + (["br"] if n * p <= a.br_max_np else [])
                    rr = run_r(H, y, tau, methods, rep, a.r_timeout)
                    for m in methods:
                        t, beta = rr.get(m, (None, None))
                        row[m], row[m + "_gap"] = t, gap(beta)
                if n * p <= a.highs_max_np:
                    t, beta = median_time(lambda: run_highs(H, y, tau), 1)
                    row["highs"], row["highs_gap"] = t, gap(beta)
                if n * p <= a.sklearn_max_np:
                    t, beta = median_time(lambda: run_sklearn(X, y, tau), 1)
                    row["sk"], row["sk_gap"] = t, gap(beta)
                rows.append(row)
                print(
                    f"done n={n} p={p} tau={tau}: lpengine {t_ours:.3f} s ({row['method']}), fn {row.get('fn')}, "
                    f"br {row.get('br')}, highs {row.get('highs')}",
                    flush=True,
                )
    print("\nLAD / quantile regression: X ~ N(0,1) plus intercept, Cauchy noise; median wall seconds, one core")
    print("ratio = other's time / lpengine's time (> 1: lpengine faster); gap = relative objective gap to the")
    print("LP optimum, which lpengine proves with the exact dual certificate ('proved').\n")
    head = (
        f"| {'n':>9} | {'p':>3} | {'tau':>4} | {'lpengine':>8} | proved | {'gap':>7} | {'fn':>6} | {'fn/ours':>7} |"
        f" {'fn gap':>7} | {'br':>6} | {'br/ours':>7} | {'HiGHS':>6} | {'HiGHS/ours':>10} | {'HiGHS gap':>9} |"
        f" {'sklearn':>7} | {'skl/ours':>8} |"
    )
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for r in rows:
        print(
            f"| {r['n']:>9,d} | {r['p']:>3} | {r['tau']:>4} | {fmt_t(r['ours']):>8} | {'yes' if r['proved'] else 'NO':>6} |"
            f" {fmt_gap(r['gap'])} | {fmt_t(r.get('fn'))} | {fmt_ratio(r.get('fn'), r['ours']):>7} |"
            f" {fmt_gap(r.get('fn_gap'))} | {fmt_t(r.get('br'))} | {fmt_ratio(r.get('br'), r['ours']):>7} |"
            f" {fmt_t(r.get('highs'))} | {fmt_ratio(r.get('highs'), r['ours']):>10} | {fmt_gap(r.get('highs_gap')):>9} |"
            f" {fmt_t(r.get('sk')):>7} | {fmt_ratio(r.get('sk'), r['ours']):>8} |"
        )
    if len(sizes) > 1:
        print("\nFitted exponent of time vs n (slope of log t on log n):")
        for p in ps:
            for tau in a.quantiles:
                sel = [r for r in rows if r["p"] == p and r["tau"] == tau]
                ln = np.log([r["n"] for r in sel])
                parts = []
                for key, name in (("ours", "lpengine"), ("fn", "fn"), ("br", "br")):
                    ts = [r.get(key) for r in sel]
                    if all(isinstance(t, float) for t in ts):
                        parts.append(f"{name} {np.polyfit(ln, np.log(ts), 1)[0]:.2f}")
                print(f"  p = {p:>3}, tau = {tau}: " + ", ".join(parts))


if __name__ == "__main__":
    main()
