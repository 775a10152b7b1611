"""Reproduction study of Hinz (2021): layer-wise L1 landscapes near Deep ReLU Simplex minima.

One command regenerates every figure, the JSON summary and the verdict table:

    python benchmarks/study_landscape.py --out study_out --jobs 2   # full grid: ~9 min on 2 cores
    python benchmarks/study_landscape.py --out study_out --small    # ~3 min

Claims tested (``deep_relu_simplex.md`` §8):
  (i)  the loss at successive vertices decays "exponentially slowly" near a local
       minimum, so the minimum's loss can be extrapolated before it is reached;
  (ii) the density of vertices rises strongly around local minima.

Setup: the authors' example (first-layer L1 training, net 4→[5,4,2]→1, x, y ~ U(-3,3); weights from
lpengine's ``ReLUNetwork.random``, He-normal, where the authors used U(-1,1)) and a grid around it (N, widths,
trained layer), several seeds, the vertex-by-vertex walk (``line_search=False``: each
pivot moves to an adjacent vertex, as in the paper).  The authors' own setting,
``problems/first_layer_500.toml`` (N = 500, D = 25, θ0 ~ U(-20, 20)^25; 4 seeds), is run to a certified local
minimum both as a vertex walk and with the line search.  Tiny problems get an exact census (every local
minimum, certified) and exact counts of all arrangement vertices in balls around minimum vertices and around
other LP vertices (claim ii').

Outputs in ``--out``: ``summary.json``, ``verdict.md`` (verdict per claim, estimator-error,
early-stopping, N = 500 and census tables), and PNG figures: ``losses_*.png`` (loss vs vertex with
fits, log-gap), ``estimates_*.png``, ``estimator_error.png``, ``decay_q.png``, ``density_steps.png``
(step length vs distance to the end, visited vertices per radius), the same with prefixes
``authors_500_vertex_walk_`` and ``authors_500_line_search_``, and ``census_basins.png``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

# One BLAS thread (as in bench_drs.py), set before numpy loads: the walk limits BLAS itself
# (lpengine.simplex.blas), the analysis and the census do not, and spinning BLAS threads of a niced
# study on a loaded host cost many times their work.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from lpengine import ReLUNetwork
from lpengine.analysis import (
    LayerwiseL1Problem,
    assign_basins,
    certify_local_minimum,
    count_vertices_in_box,
    decay_profile,
    density_summary,
    distances_to,
    estimator_trace,
    fit_decay,
    gap_decay_profile,
    landscape_census,
    step_lengths,
    visited_within,
)
from lpengine.analysis import plot as P
from lpengine.analysis.early_stop import EarlyStopping, evaluate_early_stop
from lpengine.analysis.evaluation import evaluate_estimators
from lpengine.exceptions import LPEngineError

log = logging.getLogger("study_landscape")


def make_problem(n_in: int, widths: list[int], n_samples: int, seed: int) -> tuple[ReLUNetwork, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1000 + seed)
    net = ReLUNetwork.random(n_in, widths, seed=seed)
    X = rng.uniform(-3.0, 3.0, (n_samples, n_in))
    y = rng.uniform(-3.0, 3.0, n_samples)
    return net, X, y


def run_drs(
    net: ReLUNetwork,
    X: np.ndarray,
    y: np.ndarray,
    *,
    layer: int,
    theta0: Any,
    seed: int,
    time_limit: float | None,
    line_search: bool = False,
    cpu_limit: float | None = None,
) -> dict[str, Any] | None:
    from lpengine.simplex import deep_relu_simplex

    t = time.perf_counter()
    c = time.process_time()

    def cpu_budget(state: Any) -> bool:
        # A budget in CPU seconds: niced studies on a shared host get a share of a core that varies
        # with everyone else's load, so a wall-clock limit measures the machine, not the walk.
        return cpu_limit is not None and time.process_time() - c >= cpu_limit

    try:
        res = deep_relu_simplex(
            net,
            X,
            y,
            layer=layer,
            theta0=theta0,
            seed=seed,
            line_search=line_search,
            time_limit=time_limit,
            callback=cpu_budget if cpu_limit is not None else None,
        )
    except (LPEngineError, ValueError, RuntimeError) as exc:
        log.warning("DRS failed (%s: %s)", type(exc).__name__, exc)
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {
        "losses": np.asarray(res.losses),
        "thetas": np.asarray(res.thetas),
        "status": res.status,
        "certified": bool(res.certified),
        "seconds": time.perf_counter() - t,
        "cpu_seconds": time.process_time() - c,
        "theta": np.asarray(res.theta),
    }


_ARRAYS = ("losses", "thetas", "theta")


def save_run(rec: dict[str, Any], path: Path) -> None:
    """One run as ``.npz``: the arrays (losses, thetas, theta) and every other field as JSON in ``meta``."""
    arrays = {k: np.asarray(rec[k]) for k in _ARRAYS if k in rec}
    meta = {k: v for k, v in rec.items() if k not in _ARRAYS}
    np.savez_compressed(path, meta=np.array(json.dumps(meta, default=float)), **arrays)


def load_run(path: Path) -> dict[str, Any]:
    """Inverse of :func:`save_run`."""
    with np.load(path) as f:
        rec: dict[str, Any] = json.loads(str(f["meta"]))
        rec.update({k: np.asarray(f[k]) for k in _ARRAYS if k in f.files})
    return rec


AUTHORS_500 = Path(__file__).resolve().parents[1] / "problems" / "first_layer_500.toml"


def authors_500(seed: int, tmp: Path, n_samples: int = 500) -> Any:
    """The shipped ``problems/first_layer_500.toml`` (seed 0: exactly as shipped; seed s: network seed s,
    data seed s + 1, start seed s + 2), read with the ``lpengine solve`` loader; ``n_samples`` replaces
    the file's N (the seed-0 file with another N is the issue-14 setting)."""
    from lpengine.simplex.problem import load_problem

    if seed == 0 and n_samples == 500:
        return load_problem(AUTHORS_500)
    lines = []
    section = ""
    for line in AUTHORS_500.read_text().splitlines():
        if line.startswith("["):
            section = line.strip()
        key = line.split("=")[0].strip()
        if section == "[network]" and key == "seed":
            line = f"seed = {seed}"
        elif section == "[data]" and key == "seed":
            line = f"seed = {seed + 1}"
        elif section == "[training]" and key == "start_seed":
            line = f"start_seed = {seed + 2}"
        elif section == "[data]" and key == "n_samples":
            line = f"n_samples = {n_samples}"
        lines.append(line)
    path = tmp / f"first_layer_{n_samples}_seed{seed}.toml"
    path.write_text("\n".join(lines) + "\n")
    return load_problem(path)


def grid(small: bool) -> list[dict[str, Any]]:
    if small:
        return [dict(n_in=2, widths=[3, 2], N=50, layer=0), dict(n_in=2, widths=[3, 2], N=50, layer=1)]
    g = [dict(n_in=4, widths=[5, 4, 2], N=100, layer=0)]  # the authors' example at N = 100
    for N in (50, 200):
        g.append(dict(n_in=4, widths=[5, 4, 2], N=N, layer=0))
    g.append(dict(n_in=4, widths=[5, 4, 2], N=100, layer=1))
    g.append(dict(n_in=4, widths=[4, 2], N=100, layer=1))  # DRLPL1 draft setup (smaller N)
    g.append(dict(n_in=2, widths=[3, 2], N=100, layer=0))
    return g


def study_runs(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    seeds = range(args.seeds)
    runs: list[dict[str, Any]] = []
    if args.load_runs:
        # analyse saved runs (``--runs-dir`` of earlier invocations) instead of running anything
        runs = [load_run(Path(p)) for p in args.load_runs]
        args.authors_sizes = sorted({int(r["N"]) for r in runs if r.get("authors_500")})
        log.info("loaded %d runs, authors' sizes %s", len(runs), args.authors_sizes)
    for cfg in [] if (args.authors_only or args.load_runs) else grid(args.small):
        for seed in seeds:
            for start in ("own", "random"):
                net, X, y = make_problem(cfg["n_in"], cfg["widths"], cfg["N"], seed)
                prob = LayerwiseL1Problem(net, X, y, layer=cfg["layer"])
                theta0 = None if start == "own" else np.random.default_rng(seed).uniform(-3, 3, prob.dim)
                r = run_drs(net, X, y, layer=cfg["layer"], theta0=theta0, seed=seed, time_limit=args.time_limit)
                rec = {**cfg, "seed": seed, "start": start, "D": prob.dim, "line_search": False}
                if r is None or "error" in r:
                    rec["error"] = None if r is None else r["error"]
                    runs.append(rec)
                    continue
                rec.update(r)
                runs.append(rec)
                log.info(
                    "%s seed=%d start=%s: %d vertices, %s, L %.3f -> %.3f (%.1fs)",
                    cfg,
                    seed,
                    start,
                    len(r["losses"]),
                    r["status"],
                    r["losses"][0],
                    r["losses"][-1],
                    r["seconds"],
                )
    # the authors' setting: problems/first_layer_500.toml (N = 500, D = 25, θ0 ~ U(-20, 20)^25), with and
    # without the line search, to convergence
    tmp = out / "problems"
    tmp.mkdir(exist_ok=True)
    first = args.seed_offset
    todo = [] if args.load_runs else [(n, s) for n in args.authors_sizes for s in range(first, first + args.seeds_500)]
    for n_auth, seed in todo:
        prob500 = authors_500(seed, tmp, n_auth)
        walks = [ls for ls in (False, True) if ("line" if ls else "vertex") in args.walks]
        if n_auth in args.line_search_only:
            walks = [True]
        for ls in walks:
            r = run_drs(
                prob500.network,
                prob500.X,
                prob500.y,
                layer=prob500.layer,
                theta0=prob500.theta0,
                seed=0,
                time_limit=args.time_limit_500 if args.time_limit_500 > 0 else None,
                line_search=ls,
                cpu_limit=args.cpu_limit_500,
            )
            rec = {
                "n_in": 4,
                "widths": [5, 4, 2],
                "N": n_auth,
                "layer": 0,
                "seed": seed,
                "start": "U(-20,20)",
                "D": 25,
                "authors_500": True,
            }
            if r is None or "error" in r:
                rec["error"] = None if r is None else r["error"]
            else:
                rec.update(r)
                log.info(
                    "authors N=%d seed=%d line_search=%s: %d vertices, %s, L %.3f -> %.3f (%.1fs)",
                    n_auth,
                    seed,
                    ls,
                    len(r["losses"]),
                    r["status"],
                    r["losses"][0],
                    r["losses"][-1],
                    r["seconds"],
                )
            rec["line_search"] = ls
            runs.append(rec)
            if args.runs_dir:
                rdir = Path(args.runs_dir)
                rdir.mkdir(parents=True, exist_ok=True)
                save_run(rec, rdir / f"authors_N{n_auth}_seed{seed}_{'line' if ls else 'vertex'}.npz")

    def converged(r: dict[str, Any], ls: bool) -> bool:
        return "losses" in r and r["status"] == "local_minimum" and len(r["losses"]) >= 30 and r["line_search"] == ls

    done = [r for r in runs if converged(r, False)]
    summary: dict[str, Any] = {
        "n_runs": len(runs),
        "n_failed": sum("error" in r for r in runs),
        "n_converged_used": len(done),
        "failures": [r["error"] for r in runs if "error" in r][:10],
        "runs": [
            {
                k: (v if not isinstance(v, np.ndarray) else None)
                for k, v in r.items()
                if k not in ("losses", "thetas", "theta")
            }
            | (
                {"n_vertices": len(r["losses"]), "L0": float(r["losses"][0]), "L_final": float(r["losses"][-1])}
                if "losses" in r
                else {}
            )
            for r in runs
        ],
    }
    a500 = [r for r in runs if r.get("authors_500") and r["N"] == 500]
    summary["authors_500"] = {
        ("line_search" if ls else "vertex_walk"): {
            "runs": sum(r["line_search"] == ls for r in a500),
            "converged_certified": sum(
                r["line_search"] == ls and r.get("status") == "local_minimum" and bool(r.get("certified")) for r in a500
            ),
            "vertices": [len(r["losses"]) for r in a500 if r["line_search"] == ls and "losses" in r],
            "L0": [float(r["losses"][0]) for r in a500 if r["line_search"] == ls and "losses" in r],
            "L_final": [float(r["losses"][-1]) for r in a500 if r["line_search"] == ls and "losses" in r],
            "seconds": [float(r["seconds"]) for r in a500 if r["line_search"] == ls and "losses" in r],
        }
        for ls in (False, True)
    }
    if not done or args.runs_only:
        return summary
    summary.update(analyze_group(done, out, "", early_stopping=not args.skip_early_stopping))
    # the same analysis restricted to the authors' setting, per N, vertex walk and line search separately
    for n_auth in args.authors_sizes:
        grp_n = [r for r in runs if r.get("authors_500") and r["N"] == n_auth]
        if n_auth != 500:
            summary[f"authors_{n_auth}"] = {
                ("line_search" if ls else "vertex_walk"): {
                    "runs": sum(r["line_search"] == ls for r in grp_n),
                    "converged_certified": sum(
                        r["line_search"] == ls and r.get("status") == "local_minimum" and bool(r.get("certified"))
                        for r in grp_n
                    ),
                    "vertices": [len(r["losses"]) for r in grp_n if r["line_search"] == ls and "losses" in r],
                    "L0": [float(r["losses"][0]) for r in grp_n if r["line_search"] == ls and "losses" in r],
                    "L_final": [float(r["losses"][-1]) for r in grp_n if r["line_search"] == ls and "losses" in r],
                    "seconds": [float(r["seconds"]) for r in grp_n if r["line_search"] == ls and "losses" in r],
                }
                for ls in (False, True)
            }
        for tag, ls in ((f"authors_{n_auth}_vertex_walk", False), (f"authors_{n_auth}_line_search", True)):
            grp = [r for r in grp_n if converged(r, ls)]
            if grp:
                summary[tag] = analyze_group(grp, out, tag + "_", early_stopping=not args.skip_early_stopping)
    return summary


def analyze_group(done: list[dict[str, Any]], out: Path, prefix: str, *, early_stopping: bool = True) -> dict[str, Any]:
    """Decay, estimator errors, early stopping and density over converged runs; figures named ``prefix*``.

    ``early_stopping=False`` skips the early-stopping replay: it refits the estimators every 5 vertices, a
    nonlinear least-squares fit each, which takes tens of minutes on walks of ~10^5 vertices."""
    summary: dict[str, Any] = {"n_runs": len(done)}
    # ---- claim (i): decay shape ---------------------------------------------------------
    decay_rows = []
    for r in done:
        y = r["losses"]
        n = len(y)
        w = max(10, n // 10)
        gp = gap_decay_profile(y, reference=float(y[-1]), window=w, step=w)
        tail = fit_decay(y, start=max(0, n - 3 * w))
        decay_rows.append(
            {
                "n": n,
                "q_windows": gp.q.tolist(),
                "r2_windows": gp.r2.tolist(),
                "q_first": float(gp.q[0]) if gp.q.size else None,
                "q_last": float(gp.q[-1]) if gp.q.size else None,
                "median_r2": float(np.median(gp.r2)) if gp.r2.size else None,
                "tail_fit_q": tail.q,
                "tail_fit_status": tail.status,
            }
        )
    q_first = np.array([d["q_first"] for d in decay_rows if d["q_first"] is not None])
    q_last = np.array([d["q_last"] for d in decay_rows if d["q_last"] is not None])
    r2 = np.array([d["median_r2"] for d in decay_rows if d["median_r2"] is not None])
    # q drifts if the per-window ratio changes: spread of log-ratio rates across windows
    drift = np.array(
        [
            np.log(1 - min(d["q_windows"])) - np.log(1 - max(d["q_windows"]))
            for d in decay_rows
            if len(d["q_windows"]) >= 2 and max(d["q_windows"]) < 1
        ]
    )
    summary["decay"] = {
        "median_q_first_window": float(np.median(q_first)),
        "median_q_last_window": float(np.median(q_last)),
        "median_r2_loglinear": float(np.median(r2)),
        "share_r2_above_0.9": float(np.mean(r2 > 0.9)),
        "median_rate_ratio_across_windows": float(np.median(np.exp(-drift))) if drift.size else None,
    }

    # ---- estimator evaluation --------------------------------------------------------------
    methods = {
        "geometric_fit w=50": {"method": "geometric_fit", "window": 50},
        "geometric_fit w=200": {"method": "geometric_fit", "window": 200},
        "aitken h=10": {"method": "aitken", "h": 10},
        "aitken h=50": {"method": "aitken", "h": 50},
        "geometric_tail w=50": {"method": "geometric_tail", "window": 50},
        "geometric_tail w=200": {"method": "geometric_tail", "window": 200},
    }
    ev = evaluate_estimators(
        [r["losses"] for r in done], methods=methods, to_go=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
    )
    summary["estimators"] = ev.rows()
    ax = P.plot_estimator_errors(ev.to_go, ev.median_error)
    ax.figure.savefig(out / f"{prefix}estimator_error.png", dpi=120)

    # ---- early stopping --------------------------------------------------------------------
    es = []
    for tol_rel in (1e-2, 1e-3) if early_stopping else ():
        for label, opts in (
            ("geometric_fit w=200", {"method": "geometric_fit", "window": 200}),
            ("aitken h=50", {"method": "aitken", "h": 50}),
        ):
            outs = []
            for r in done:
                y = r["losses"]
                o = dict(opts)
                rule = EarlyStopping(
                    gain_tol=tol_rel * float(y[0] - y[-1]), method=o.pop("method"), min_vertices=20, every=5, **o
                )
                outs.append(evaluate_early_stop(y, rule))
            es.append(
                {
                    "rule": label,
                    "gain_tol_rel": tol_rel,
                    "share_stopped": float(np.mean([o.stopped for o in outs])),
                    "median_vertices_saved_frac": float(np.median([o.vertices_saved / o.n_vertices for o in outs])),
                    "median_loss_given_up_rel": float(
                        np.median(
                            [
                                o.loss_given_up / max(1e-300, float(r["losses"][0] - r["losses"][-1]))
                                for o, r in zip(outs, done, strict=True)
                            ]
                        )
                    ),
                    "max_loss_given_up_rel": float(
                        np.max(
                            [
                                o.loss_given_up / max(1e-300, float(r["losses"][0] - r["losses"][-1]))
                                for o, r in zip(outs, done, strict=True)
                            ]
                        )
                    ),
                }
            )
    summary["early_stopping"] = es

    # ---- claim (ii): density -------------------------------------------------------------
    dens = [density_summary(r["thetas"], fraction=0.1) for r in done]
    summary["density"] = {
        "median_step_ratio_early_over_late": float(
            np.median([d.step_ratio for d in dens if math.isfinite(d.step_ratio)])
        ),
        "median_step_ratio_far_over_near": float(
            np.median([d.median_step_far / d.median_step_near for d in dens if d.median_step_near > 0])
        ),
        "median_spearman_step_vs_distance": float(np.median([d.spearman for d in dens])),
        "share_spearman_positive": float(np.mean([d.spearman > 0 for d in dens])),
        "median_zero_steps_frac": float(np.median([d.zero_steps / d.n_steps for d in dens])),
    }

    # ---- figures for the longest runs --------------------------------------------------
    longest = sorted(done, key=lambda r: -len(r["losses"]))[:3]
    for i, r in enumerate(longest):
        y = r["losses"]
        n = len(y)
        w = max(10, n // 10)
        fits = [f for f in decay_profile(y, window=w, step=w).fits if f.status == "ok"]
        from matplotlib.figure import Figure

        fig = Figure(figsize=(11, 4), layout="constrained")
        P.plot_losses(y, fits=fits, ax=fig.add_subplot(1, 2, 1))
        P.plot_losses(y, fits=fits, reference=float(y[-1]), log_gap=True, ax=fig.add_subplot(1, 2, 2))
        fig.savefig(out / f"{prefix}losses_{i}.png", dpi=120)
        ks = np.unique(np.linspace(20, n - 1, 60).astype(int))
        traces = [
            estimator_trace(y, method="geometric_fit", ks=ks, window=200),
            estimator_trace(y, method="aitken", ks=ks, h=50),
            estimator_trace(y, method="naive", ks=ks),
        ]
        ax = P.plot_estimates(traces, truth=float(y[-1]))
        ax.figure.savefig(out / f"{prefix}estimates_{i}.png", dpi=120)
    ax = None
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    for r in longest:
        y = r["losses"]
        w = max(10, len(y) // 10)
        gp = gap_decay_profile(y, reference=float(y[-1]), window=w, step=max(1, w // 2))
        ax.plot(gp.starts / len(y), 1 - gp.q, marker=".", lw=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("window start / run length")
    ax.set_ylabel("1 - q (per-vertex decay of L_k - L_final)")
    fig.savefig(out / f"{prefix}decay_q.png", dpi=120)
    fig = Figure(figsize=(11, 4), layout="constrained")
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for r in longest:
        P.plot_step_lengths(step_lengths(r["thetas"]), distances_to(r["thetas"]), ax=ax1)
    P.plot_radius_counts(
        [visited_within(r["thetas"]) for r in longest],
        ax=ax2,
        labels=[f"run {i}" for i in range(len(longest))],
        per_radius=True,
    )
    fig.savefig(out / f"{prefix}density_steps.png", dpi=120)
    return summary


CENSUS_RADII = (0.25, 1.0)


def census_case(cfg: dict[str, Any], n_starts: int, census_time: float) -> dict[str, Any]:
    """Census of one tiny problem, simplex runs matched to its minima, and exact vertex counts (claim ii')."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    net, X, y = make_problem(cfg["n_in"], cfg["widths"], cfg["N"], seed=0)
    prob = LayerwiseL1Problem(net, X, y)
    t = time.perf_counter()
    cen = landscape_census(prob, verify=True, time_limit=census_time)
    row = {**cfg, "D": prob.dim, **cen.summary(), "census_seconds": time.perf_counter() - t}
    rng = np.random.default_rng(0)
    ends, certs, errors = [], [], 0
    for s in range(n_starts):
        r = run_drs(net, X, y, layer=0, theta0=rng.uniform(-3, 3, prob.dim), seed=s, time_limit=30.0)
        if r is None or "error" in r:
            errors += 1
            continue
        ends.append(r["theta"])
        certs.append(r["certified"])
    if ends:
        b = assign_basins(cen, np.array(ends))
        row.update(
            {
                "drs_runs": len(ends),
                "drs_errors": errors,
                "basin_counts": b.counts.tolist(),
                "fraction_global": b.fraction_global,
                "unmatched": b.n_unmatched,
                "drs_certified": int(np.sum(certs)),
                "drs_distinct_minima": int(np.sum(b.counts > 0)),
            }
        )
        # unmatched end points: are they local minima at all (independent local certificate)?
        un = [e for e, i in zip(ends, b.index, strict=True) if i < 0]
        row["unmatched_certified_local_min"] = int(sum(certify_local_minimum(prob, e).certified for e in un[:10]))
    # claim (ii') exactly: all arrangement vertices (hidden and residual kinks, visited or not) in ∞-balls
    # around LP vertices that are local-minimum points vs around LP vertices that are not; the centre
    # vertex itself is not counted
    if prob.dim <= 6:  # the affine regions in a ball grow too fast beyond D = 6 for a study run
        cand = []
        for c in cen.cells:
            if c.theta.size and not any(np.max(np.abs(c.theta - q)) <= 1e-9 * (1 + np.max(np.abs(q))) for q in cand):
                cand.append(c.theta)
        cand = np.array(cand)
        is_min = assign_basins(cen, cand).index >= 0
        mins = cand[is_min][np.argsort([prob.loss(t) for t in cand[is_min]])][:3]
        # baseline centres: other LP vertices, not θ = 0 (where every hidden kink of a central arrangement meets)
        pool = cand[~is_min & (np.max(np.abs(cand), axis=1) > 1e-9)]
        others = pool[rng.permutation(pool.shape[0])[:5]]
        try:
            for radius in CENSUS_RADII:

                def count(c: np.ndarray) -> int:
                    vc = count_vertices_in_box(prob, center=c, radius=radius, max_regions=20000)
                    return int(
                        vc.count - np.any(np.max(np.abs(vc.vertices - c), axis=1) <= 1e-7 * (1 + np.max(np.abs(c))))
                        if vc.count
                        else 0
                    )

                row[f"vertices_r{radius}_near_minima"] = [count(c) for c in mins]
                row[f"vertices_r{radius}_near_other_vertices"] = [count(c) for c in others]
        except LPEngineError as exc:
            row["vertex_count_error"] = str(exc)
    log.info("census %s: %s", cfg, {k: row.get(k) for k in ("n_cells", "n_minima", "global_min", "census_seconds")})
    return row


def tiny_census(args: argparse.Namespace, out: Path) -> list[dict[str, Any]]:
    cases = [dict(n_in=1, widths=[2], N=6), dict(n_in=1, widths=[3], N=5), dict(n_in=2, widths=[2], N=6)]
    if not args.small:
        cases += [dict(n_in=1, widths=[3], N=8), dict(n_in=1, widths=[2, 2], N=5), dict(n_in=3, widths=[2], N=8)]
    n_starts = 8 if args.small else 30
    if args.jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=args.jobs) as ex:
            rows = list(ex.map(census_case, cases, [n_starts] * len(cases), [args.census_time] * len(cases)))
    else:
        rows = [census_case(cfg, n_starts, args.census_time) for cfg in cases]
    if rows:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7, 4), layout="constrained")
        ax = fig.add_subplot()
        for i, row in enumerate(rows):
            counts = row.get("basin_counts", [])
            ax.bar(
                np.arange(len(counts)) + 0.8 * i / len(rows),
                counts,
                width=0.8 / len(rows),
                label=f"D={row['D']}, N={row['N']}",
            )
        ax.set_xlabel("local minimum (sorted by loss; 0 = global)")
        ax.set_ylabel("DRS runs ending there")
        ax.legend(fontsize="small")
        fig.savefig(out / "census_basins.png", dpi=120)
    return rows


def _decay_row(d: dict[str, Any], label: str) -> str:
    exp_ok = d["median_r2_loglinear"] > 0.9
    slow = d["median_q_first_window"] > 0.95
    drift = d["median_rate_ratio_across_windows"]
    v = "confirmed" if exp_ok and slow and drift and drift > 0.5 else ("partly" if exp_ok or slow else "not")
    return (
        f"| (i) loss decays exponentially slowly{label} | {v} | median per-vertex q of L_k-L_final: "
        f"{d['median_q_first_window']:.4f} (first window) → {d['median_q_last_window']:.4f} (last); "
        f"median R² of log-linear fits {d['median_r2_loglinear']:.3f}; min/max rate ratio across windows "
        f"{drift if drift is None else round(drift, 3)} (1 = one constant q) |"
    )


def _estimator_row(est: list[dict[str, Any]], label: str) -> str:
    """Verdict from one estimator at a time (no best-of per row): rows >= 500 to go with >= 4 runs."""
    far = [row for row in est if row["to_go"] >= 500 and row["n_runs"] >= 4]
    methods = [k[: -len(".median_relative")] for k in (est[0] if est else {}) if k.endswith(".median_relative")]
    ratios = {m: [row[f"{m}.median_relative"] for row in far] for m in methods}
    v = "not" if far else "n/a"
    if far and any(all(r < 0.5 for r in rs) for rs in ratios.values()):
        v = "confirmed"
    elif far and any(sum(r < 0.8 for r in rs) > len(rs) / 2 for rs in ratios.values()):
        v = "partly"
    best = min(ratios, key=lambda m: float(np.median(ratios[m]))) if far else None
    detail = (
        "fewer than 4 runs with >= 500 vertices to go (see the estimator table)"
        if best is None
        else f"median error / naive error at {', '.join(str(r['to_go']) for r in far)} vertices to go: "
        + "; ".join(f"{m} {', '.join(f'{r:.2f}' for r in rs)}" for m, rs in ratios.items())
        + f" (best: {best})"
    )
    return f"| (i') L* can be extrapolated well before the minimum{label} | {v} | {detail} |"


def _density_row(dn: dict[str, Any], label: str) -> str:
    r = dn["median_step_ratio_early_over_late"]
    v = "confirmed" if r > 5 and dn["share_spearman_positive"] > 0.8 else ("partly" if r > 1.5 else "not")
    return (
        f"| (ii) vertex density rises near minima (along the path){label} | {v} | median step early/late "
        f"{r:.2f}, far/near {dn['median_step_ratio_far_over_near']:.2f}; Spearman(step, distance to end) median "
        f"{dn['median_spearman_step_vs_distance']:.2f}, positive in {dn['share_spearman_positive']:.0%} |"
    )


def verdict(summary: dict[str, Any]) -> str:
    """Markdown: verdict table per claim, then the estimator, early-stopping, N = 500 and census tables."""
    lines = ["## Verdicts", "", "| claim | verdict | numbers |", "|---|---|---|"]
    groups = [("", summary)]
    sizes = sorted({int(k.split("_")[1]) for k in summary if k.startswith("authors_") and k.split("_")[1].isdigit()})
    for n_auth in sizes:
        for tag, label in (
            (f"authors_{n_auth}_vertex_walk", f" — authors' setting N = {n_auth}, vertex walk"),
            (f"authors_{n_auth}_line_search", f" — authors' setting N = {n_auth}, with line search (per pivot)"),
        ):
            if tag in summary:
                groups.append((label, summary[tag]))
    for label, g in groups:
        if g.get("decay"):
            lines.append(_decay_row(g["decay"], label or " — all vertex walks"))
        if g.get("estimators"):
            lines.append(_estimator_row(g["estimators"], label or " — all vertex walks"))
        if g.get("density"):
            lines.append(_density_row(g["density"], label or " — all vertex walks"))
    cen = summary.get("census") or []
    key = "vertices_r{}_near_minima"
    for radius in CENSUS_RADII:
        pairs = [
            (float(np.median(r[key.format(radius)])), float(np.median(r[f"vertices_r{radius}_near_other_vertices"])))
            for r in cen
            if r.get(key.format(radius)) and r.get(f"vertices_r{radius}_near_other_vertices")
        ]
        if pairs:
            ratios = [(a + 1.0) / (b + 1.0) for a, b in pairs]
            v = (
                "confirmed"
                if all(q > 2 for q in ratios)
                else ("partly" if sum(q > 1 for q in ratios) > len(ratios) / 2 else "not")
            )
            lines.append(
                f"| (ii') arrangement vertices crowd around minima (exact, all vertices, ∞-ball r = {radius}) | {v} | "
                "median count near local-minimum vertices vs near other LP vertices, per census problem: "
                + "; ".join(f"{a:g} vs {b:g}" for a, b in pairs)
                + " |"
            )
    est = summary.get("estimators")
    if est:
        methods = [k[: -len(".median_error")] for k in est[0] if k.endswith(".median_error")]
        lines += [
            "",
            "## Estimator error (all vertex walks): median |L^ - L*| (ratio to naive)",
            "",
            "| vertices to go | runs | " + " | ".join(methods) + " |",
            "|---" * (len(methods) + 2) + "|",
        ]
        for row in est:
            cells = []
            for m in methods:
                e = row[f"{m}.median_error"]
                cells.append(f"{e:.3g}" if m == "naive" else f"{e:.3g} ({row[f'{m}.median_relative']:.2f})")
            lines.append(f"| {row['to_go']} | {row['n_runs']} | " + " | ".join(cells) + " |")
    es = summary.get("early_stopping")
    if es:
        lines += [
            "",
            "## Early stopping (all vertex walks; tolerance relative to the run's total decrease)",
            "",
            "| rule | gain tol | stopped | median vertices saved | median loss given up | max loss given up |",
            "|---|---|---|---|---|---|",
        ]
        for e in es:
            lines.append(
                f"| {e['rule']} | {e['gain_tol_rel']:g} | {e['share_stopped']:.0%} | "
                f"{e['median_vertices_saved_frac']:.0%} | {e['median_loss_given_up_rel']:.1%} | "
                f"{e['max_loss_given_up_rel']:.1%} |"
            )
    for n_auth in sizes:
        a5 = summary.get(f"authors_{n_auth}")
        if not a5 or not isinstance(a5, dict) or "vertex_walk" not in a5:
            continue
        if not any(d.get("runs") for d in a5.values()):
            continue
        lines += [
            "",
            f"## Authors' setting (problems/first_layer_500.toml: 4→[5,4,2]→1, N = {n_auth}, D = 25, "
            "θ0 ~ U(-20, 20)^25)",
            "",
            "| walk | runs | converged + certified | vertices | L0 | L final | seconds |",
            "|---|---|---|---|---|---|---|",
        ]
        for k, d in a5.items():
            fmt = lambda xs, f: ", ".join(format(x, f) for x in xs)  # noqa: E731
            lines.append(
                f"| {k} | {d['runs']} | {d['converged_certified']} | {fmt(d['vertices'], 'd')} | "
                f"{fmt(d['L0'], '.1f')} | {fmt(d['L_final'], '.2f')} | {fmt(d['seconds'], '.1f')} |"
            )
    if cen:
        lines += [
            "",
            "## Census of tiny landscapes (first-layer L1, x, y ~ U(-3, 3); DRS from θ0 ~ U(-3, 3)^D)",
            "",
            "| net | N | D | cells | global min | local minima (certified) | of them global | without LP vertex "
            "| DRS runs | ending in a global min | distinct minima reached | unmatched | seconds |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in cen:
            lines.append(
                f"| {r['n_in']}→{r['widths']}→1 | {r['N']} | {r['D']} | {r['n_cells']} | {r['global_min']:.4f} | "
                f"{r['n_minima']} ({'yes' if r['certified'] else 'NO'}) | {r['n_minima_global']} | "
                f"{r['n_minima_without_vertex']} | {r.get('drs_runs', 0)} | {r.get('fraction_global', float('nan')):.0%} | "
                f"{r.get('drs_distinct_minima', '-')} | {r.get('unmatched', '-')} | {r['census_seconds']:.0f} |"
            )
    return "\n".join(lines) + "\n"


def _commit() -> str | None:
    """The checkout's short commit hash (``None`` outside a git checkout), recorded in ``summary.json``."""
    import subprocess

    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True
        )
    except OSError:
        return None
    return out.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="study_landscape_out", help="output folder")
    ap.add_argument("--small", action="store_true", help="quick settings (a few minutes)")
    ap.add_argument("--seeds", type=int, default=None, help="seeds per configuration (default 2 small / 5 full)")
    ap.add_argument("--time-limit", type=float, default=None, help="seconds per DRS run")
    ap.add_argument(
        "--seeds-500", type=int, default=None, help="seeds of the authors' N = 500 setting (default 1 small / 4 full)"
    )
    ap.add_argument(
        "--time-limit-500", type=float, default=300.0, help="wall seconds per authors'-setting run (0: none)"
    )
    ap.add_argument(
        "--cpu-limit-500",
        type=float,
        default=None,
        help="CPU seconds per authors'-setting run (status 'stopped' when spent); use with --time-limit-500 0 "
        "for niced runs on a loaded host, where wall time measures the load",
    )
    ap.add_argument(
        "--authors-sizes", type=int, nargs="+", default=[500], help="N values of the authors' setting (default 500)"
    )
    ap.add_argument("--authors-only", action="store_true", help="skip the grid; run only the authors' setting")
    ap.add_argument("--seed-offset", type=int, default=0, help="first seed of the authors' setting (default 0)")
    ap.add_argument(
        "--walks",
        nargs="+",
        choices=("vertex", "line"),
        default=["vertex", "line"],
        help="walks run on the authors' setting: the vertex walk, the line search, or both (default)",
    )
    ap.add_argument(
        "--line-search-only",
        type=int,
        nargs="*",
        default=[],
        help="authors'-setting sizes N run with the line search only (vertex walks too slow there)",
    )
    ap.add_argument(
        "--runs-dir",
        default=None,
        help="save every authors'-setting run (losses, vertices, status) to DIR/authors_N<N>_seed<s>_<walk>.npz "
        "as soon as it ends",
    )
    ap.add_argument(
        "--skip-early-stopping",
        action="store_true",
        help="skip the early-stopping replay (slow on walks of ~10^5 vertices); decay and density unaffected",
    )
    ap.add_argument(
        "--runs-only",
        action="store_true",
        help="run (and save with --runs-dir) without the analysis; analyse later with --load-runs",
    )
    ap.add_argument(
        "--load-runs",
        nargs="+",
        default=None,
        help="analyse these saved runs (.npz of --runs-dir, e.g. from separate processes) instead of running",
    )
    ap.add_argument("--census-time", type=float, default=120.0, help="seconds per census enumeration")
    ap.add_argument("--skip-census", action="store_true")
    ap.add_argument("--skip-runs", action="store_true", help="census only")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes for the census cases")
    ap.add_argument("--render", action="store_true", help="only rewrite OUT/verdict.md from OUT/summary.json")
    args = ap.parse_args(argv)
    args.seeds = args.seeds if args.seeds is not None else (2 if args.small else 5)
    args.seeds_500 = args.seeds_500 if args.seeds_500 is not None else (1 if args.small else 4)
    args.time_limit = args.time_limit if args.time_limit is not None else (20.0 if args.small else 120.0)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    out = Path(args.out)
    if args.render:
        text = verdict(json.loads((out / "summary.json").read_text()))
        (out / "verdict.md").write_text(text)
        sys.stdout.write(text)
        return 0
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    summary = {} if args.skip_runs else study_runs(args, out)
    if not args.skip_census:
        summary["census"] = tiny_census(args, out)
    summary["seconds"] = time.perf_counter() - t0
    summary["settings"] = {
        "small": args.small,
        "seeds": args.seeds,
        "time_limit": args.time_limit,
        "commit": _commit(),
        "loaded_runs": args.load_runs,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True, default=float))
    (out / "verdict.md").write_text(verdict(summary))
    sys.stdout.write(verdict(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
