"""CPU per Deep ReLU Simplex pivot against N: the part linear in N and the fixed (per-pivot Python) part.

Run:  python benchmarks/bench_drs_pivot.py [--sizes 500 2000 10000 100000] [--pivots 400] [--rev main] [--rounds 2]

The vertex walk (``line_search=False``, one adjacent vertex per pivot, as in the landscape study) on
the authors' first-layer setting (problems/first_layer_500.toml with ``n_samples`` replaced; seed 0),
``--pivots`` pivots per run (fewer above N = 20,000: ``--pivots-large``).  A callback stamps the CPU
time (``time.process_time``) at every pivot; the median CPU per pivot over the pivots after the first
20 is the run's figure.  A least-squares line ``cpu = a + b N`` over the sizes splits it into the
fixed part ``a`` (per-pivot Python and numpy call overhead) and the part linear in N (``b`` per
sample).  With ``--rev`` the package at that git revision runs too, interleaved (old, new, old, ...)
in the same process (as ``bench_drs_compare.py``).  BLAS is pinned to one thread.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import importlib
import pathlib
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from bench_drs_compare import load_old
from study_landscape import authors_500


def per_pivot(mod, prob, pivots: int) -> float:
    """Median CPU seconds per pivot of one vertex walk (pivots after the 20th)."""
    net_cls = importlib.import_module(mod.__name__.rsplit(".", 1)[0] + ".network").ReLUNetwork
    net = prob.network
    net = net_cls(tuple(net.weights), tuple(net.biases), has_output_layer=net.has_output_layer)
    stamps: list[float] = []

    def cb(state):
        if state.phase == "walk":
            stamps.append(time.process_time())

    mod.deep_relu_simplex(
        net,
        prob.X,
        prob.y,
        layer=prob.layer,
        theta0=prob.theta0,
        seed=0,
        line_search=False,
        max_pivots=pivots,
        callback=cb,
    )
    d = np.diff(stamps[20:])
    return float(np.median(d)) if d.size else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 10000, 100000])
    ap.add_argument("--pivots", type=int, default=400)
    ap.add_argument("--pivots-large", type=int, default=80, help="pivots per run above N = 20,000")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--rev", default=None, help="also run the package at this git revision (interleaved)")
    args = ap.parse_args()
    import lpengine.simplex as new

    versions = {"new": new}
    tmp = tempfile.TemporaryDirectory()
    if args.rev:
        versions = {"old": load_old(args.rev, tmp.name), "new": new}
    probdir = pathlib.Path(tmp.name) / "problems"
    probdir.mkdir()
    probs = {n: authors_500(0, probdir, n) for n in args.sizes}
    best: dict[tuple[str, int], float] = {}
    for _ in range(args.rounds):
        for n in args.sizes:
            piv = args.pivots if n <= 20000 else args.pivots_large
            for name, mod in versions.items():
                c = per_pivot(mod, probs[n], piv)
                best[name, n] = min(best.get((name, n), np.inf), c)
    print(f"load average {os.getloadavg()[0]:.1f}; CPU ms per pivot (best of {args.rounds} rounds, median per run)\n")
    names = list(versions)
    head = "| N | " + " | ".join(names) + (" | new/old |" if len(names) == 2 else " |")
    print(head)
    print("|" + "---|" * (len(names) + 1 + (len(names) == 2)))
    for n in args.sizes:
        row = [f"{1e3 * best[nm, n]:.2f}" for nm in names]
        ratio = [f"{best['new', n] / best['old', n]:.2f}"] if len(names) == 2 else []
        print(f"| {n:,} | " + " | ".join(row + ratio) + " |")
    sizes = np.array(args.sizes, dtype=float)
    print()
    for nm in names:
        cpu = np.array([best[nm, n] for n in args.sizes])
        b, a = np.polyfit(sizes, cpu, 1)
        print(
            f"{nm}: cpu per pivot ~ {1e3 * a:.2f} ms + {1e6 * b:.3f} us x N  (fixed part at N = 2,000: "
            f"{100 * a / (a + b * 2000):.0f} %)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
