"""Deep ReLU Simplex speed, this working tree against an older git revision, interleaved in one run.

Run:  python benchmarks/bench_drs_compare.py --rev b157ebb [--seeds 2 3 4 5 6] [--reps 3]

The package at ``--rev`` is extracted with ``git archive`` into a temporary
directory and imported under another name, so both versions run in the same
process, alternately (old, new, old, new, ...), on the first-layer reference
problem (problems/first_layer_500.toml, theta0 ~ U(-20,20)^25 per seed).  For
each version and seed the fastest of ``--reps`` runs is kept (machine noise
only ever adds time).  Vertices = pivots (phase-2 steps; every one ends at a
logged vertex with D tight kinks); line-search crossings are counted apart
("crossed"), and "passed/s" is (pivots + crossings) / engine s.
"Engine s" is the engine's wall time from the start point to the final vertex
(phase 1 included); "to cert s" adds the HiGHS certificate (wall time of the call).
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
    t0 = time.perf_counter()
    res = mod.deep_relu_simplex(net, X, y, theta0=theta0, seed=0, line_search=ls)
    return res, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rev", required=True, help="git revision to compare against")
    ap.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 4, 5, 6])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-ls", action="store_true", help="also compare without the line search")
    a = ap.parse_args()
    import lpengine.simplex as new
    from lpengine.simplex.problem import load_problem

    with tempfile.TemporaryDirectory() as tmp:
        old = load_old(a.rev, tmp)
        prob = load_problem(ROOT / "problems" / "first_layer_500.toml")
        net, X, y = prob.network, prob.X, prob.y
        rows = []
        for ls in (True, False) if a.no_ls else (True,):
            for s in a.seeds:
                theta0 = np.random.default_rng(s).uniform(-20, 20, 25)
                best = {"old": None, "new": None}
                for _ in range(a.reps):
                    for name, mod in (("old", old), ("new", new)):
                        res, wall = one(mod, net, X, y, theta0, ls)
                        eng = res.stats["seconds"]
                        if best[name] is None or eng < best[name][1]:
                            best[name] = (res, eng, wall)
                rows.append((s, ls, best))
                print(f"seed {s} line_search={ls} done", flush=True)
    print(
        f"\nFirst-layer L1, 4->[5,4,2]->1, N = 500, theta0 ~ U(-20,20)^25; old = {a.rev}, new = working tree; "
        f"best of {a.reps}"
    )
    print(
        f"{'seed':>4} {'LS':>5} {'ver':>4} | {'vertices':>8} {'engine s':>8} {'to cert s':>9} {'vert/s':>7} "
        f"{'crossed':>7} {'passed/s':>8} {'cert':>5} {'final L':>9} | {'speed-up (vert/s)':>17}"
    )
    for s, ls, best in rows:
        vps = {}
        for name in ("old", "new"):
            res, eng, wall = best[name]
            vps[name] = res.nit / eng
            ratio = f"{vps['new'] / vps['old']:17.2f}" if name == "new" else ""
            kc = int(res.stats["kinks_crossed"])
            print(
                f"{s:>4} {str(ls):>5} {name:>4} | {res.nit:>8} {eng:8.3f} {wall:9.3f} {vps[name]:7.0f} "
                f"{kc:>7} {(res.nit + kc) / eng:8.0f} {str(res.certified):>5} {res.fun:9.3f} | {ratio}"
            )


if __name__ == "__main__":
    main()
