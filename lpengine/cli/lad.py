"""``lpengine lad DATA``: least-absolute-deviation / quantile regression (the Barrodale-Roberts case)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

__all__ = ["register", "run_lad"]


def register(subparsers: Any) -> None:
    """Add the ``lad`` subcommand."""
    q = subparsers.add_parser(
        "lad",
        help="least-absolute-deviation / quantile regression (Barrodale-Roberts case)",
        description="Fit y ~ X (+ intercept) by LAD or quantile regression; DATA is .csv/.npy (last column y) or .npz (X, y).",
    )
    q.add_argument("data", metavar="DATA", help="data file (.csv, .npy: last column is y; .npz: arrays X, y)")
    q.add_argument("--quantile", type=float, default=0.5, metavar="q", help="quantile in (0, 1) (default 0.5: LAD)")
    q.add_argument("--no-intercept", action="store_true", help="do not fit an intercept")
    q.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    q.set_defaults(func=run_lad)


def run_lad(args: argparse.Namespace) -> int:
    """Entry point of ``lpengine lad``."""
    from ..simplex.lad import lad
    from ..simplex.problem import load_data_file
    from .common import emit_json

    X, y = load_data_file(args.data)
    t0 = time.perf_counter()
    res = lad(X, y, args.quantile, fit_intercept=not args.no_intercept)
    wall = time.perf_counter() - t0
    out = {
        "status": res.status,
        "certified": res.certified,
        "fun": res.fun,
        "coef": res.coef.tolist(),
        "intercept": res.intercept,
        "quantile": res.quantile,
        "nit": res.nit,
        "n_vertices": res.n_vertices,
        "kinks_crossed": res.kinks_crossed,
        "n_samples": int(X.shape[0]),
        "seconds": wall,
    }
    if args.json:
        emit_json(out)
        return 0
    w = sys.stdout.write
    w(f"{'LAD' if res.quantile == 0.5 else f'quantile {res.quantile:g}'} regression on {X.shape[0]} samples\n")
    w("coef          " + " ".join(f"{c:.10g}" for c in res.coef) + "\n")
    w(f"intercept     {res.intercept:.10g}\n")
    w(f"loss          {res.fun:.12g}\n")
    w(
        f"status        {res.status} ({'certified' if res.certified else 'not certified'}), "
        f"{res.n_vertices} vertices, {res.kinks_crossed} kinks crossed, {wall:.3f} s\n"
    )
    return 0
