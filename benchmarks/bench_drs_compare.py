"""Deep ReLU Simplex speed, this working tree against an older git revision, interleaved in one run.

Run:  python benchmarks/bench_drs_compare.py --rev b157ebb [--seeds 2 3 4 5 6] [--reps 3] [--n 50000]

The package at ``--rev`` is extracted with ``git archive`` into a temporary
directory and imported under another name, so both versions run in the same
process, alternately (old, new, old, new, ...), on the first-layer reference
problem (problems/first_layer_500.toml, theta0 ~ U(-20,20)^25 per seed; ``--n`` raises
``n_samples`` with the same data generator, as ``bench_drs.py`` does).  For
each version and seed the fastest of ``--reps`` runs is kept (machine noise
only ever adds time).  Vertices = pivots (phase-2 steps; every one ends at a
logged vertex with D tight kinks); line-search crossings are counted apart
("crossed"), and "passed/s" is (pivots + crossings) / engine s.
"Engine s" is the engine's wall time from the start point to the final vertex
(phase 1 included); "to cert s" adds the HiGHS certificate (wall time of the call);
"walk cpu" and "call cpu" are the same two spans in CPU seconds (``time.process_time``: on a
shared machine the fair measure; the ranking uses the call's CPU time when ``--cpu`` is given).
BLAS is pinned to one thread.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import importlib
import io
import pathlib
import subprocess
import sys
import tarfile
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_old(rev: str, tmp: str):
    data = subprocess.run(["git", "archive", rev, "lpengine"], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        tf.extractall(tmp, filter="data")
    (pathlib.Path(tmp) / "lpengine").rename(pathlib.Path(tmp) / "lpengine_old")
    sys.path.insert(0, tmp)
    return importlib.import_module("lpengine_old.simplex")


def one(mod, net, X, y, theta0, ls):
    # Each version checks for its own ReLUNetwork class.
    net_cls = importlib.import_module(mod.__name__.rsplit(".", 1)[0] + ".network").ReLUNetwork
    net = net_cls(tuple(net.weights), tuple(net.biases), has_output_layer=net.has_output_layer)
    t0, c0 = time.perf_counter(), time.process_time()
    res = mod.deep_relu_simplex(net, X, y, theta0=theta0, seed=0, line_search=ls)
    return res, time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rev", required=True, help="git revision to compare against")
    ap.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 4, 5, 6])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-ls", action="store_true", help="also compare without the line search")
    ap.add_argument("--n", type=int, default=None, help="n_samples (default: the problem file's 500)")
    ap.add_argument("--cpu", action="store_true", help="keep the run with the least call CPU time")
    a = ap.parse_args()
    import lpengine.simplex as new
    from lpengine.simplex.problem import load_problem

    with tempfile.TemporaryDirectory() as tmp:
        old = load_old(a.rev, tmp)
        prob = load_problem(ROOT / "problems" / "first_layer_500.toml")
        net, X, y = prob.network, prob.X, prob.y
        if a.n is not None:
            rng = np.random.default_rng(1)  # the problem file's [data] generator and seed, as bench_drs.py
            X, y = rng.uniform(-3, 3, (a.n, 4)), rng.uniform(-3, 3, a.n)
        rows = []
        for ls in (True, False) if a.no_ls else (True,):
            for s in a.seeds:
                theta0 = np.random.default_rng(s).uniform(-20, 20, 25)
                best = {"old": None, "new": None}
                for _ in range(a.reps):
                    for name, mod in (("old", old), ("new", new)):
                        res, wall, cpu = one(mod, net, X, y, theta0, ls)
                        eng = res.stats["seconds"]
                        key = cpu if a.cpu else eng
                        if best[name] is None or key < best[name][3]:
                            best[name] = (res, eng, wall, key, cpu)
                rows.append((s, ls, best))
                print(f"seed {s} line_search={ls} done", flush=True)
    print(
        f"\nFirst-layer L1, 4->[5,4,2]->1, N = {len(y)}, theta0 ~ U(-20,20)^25; old = {a.rev}, new = working tree; "
        f"best of {a.reps}"
    )
    print(
        f"{'seed':>4} {'LS':>5} {'ver':>4} | {'vertices':>8} {'engine s':>8} {'to cert s':>9} {'vert/s':>7} "
        f"{'crossed':>7} {'passed/s':>8} {'walk cpu':>8} {'call cpu':>8} {'cert':>5} {'final L':>11} | "
        f"{'speed-up (vert/s)':>17} {'call cpu ratio':>14}"
    )
    for s, ls, best in rows:
        vps = {}
        for name in ("old", "new"):
            res, eng, wall, _, cpu = best[name]
            vps[name] = res.nit / eng
            ratio = f"{vps['new'] / vps['old']:17.2f} {best['old'][4] / cpu:14.2f}" if name == "new" else ""
            kc = int(res.stats["kinks_crossed"])
            print(
                f"{s:>4} {str(ls):>5} {name:>4} | {res.nit:>8} {eng:8.3f} {wall:9.3f} {vps[name]:7.0f} "
                f"{kc:>7} {(res.nit + kc) / eng:8.0f} {res.stats['cpu_seconds']:8.2f} {cpu:8.2f} "
                f"{str(res.certified):>5} {res.fun:11.3f} | {ratio}"
            )


if __name__ == "__main__":
    main()
