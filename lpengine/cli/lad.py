"""``lpengine lad DATA``: least-absolute-deviation / quantile regression (the Barrodale-Roberts case)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from .common import EXIT_INCOMPLETE, EXIT_OK, Outcome, add_command

__all__ = ["register", "run_lad"]


def register(subparsers: Any) -> None:
    """Add the ``lad`` subcommand."""
    q = add_command(
        subparsers,
        "lad",
        help="least-absolute-deviation / quantile regression (Barrodale-Roberts case)",
        description="Fit y ~ X (+ intercept) by LAD or quantile regression; DATA is .csv/.npy (last column y) "
        "or .npz (X, y). Exit 0 when the optimum is certified, 3 otherwise.",
    )
    q.add_argument("data", metavar="DATA", help="data file (.csv, .npy: last column is y; .npz: arrays X, y)")
    q.add_argument("--quantile", type=float, default=0.5, metavar="q", help="quantile in (0, 1) (default 0.5: LAD)")
    q.add_argument("--no-intercept", action="store_true", help="do not fit an intercept")
    q.set_defaults(func=run_lad)


def run_lad(args: argparse.Namespace) -> Outcome:
    """Entry point of ``lpengine lad``."""
    from ..simplex.lad import lad
    from ..simplex.problem import load_data_file

    X, y = load_data_file(args.data)
    t0 = time.perf_counter()
    res = lad(X, y, args.quantile, fit_intercept=not args.no_intercept)
    wall = time.perf_counter() - t0
    result = {**res.to_dict(), "n_samples": int(X.shape[0]), "data": str(args.data), "wall_seconds": wall}

    def text() -> str:
        kind = "LAD" if res.quantile == 0.5 else f"quantile {res.quantile:g}"
        return (
            f"{kind} regression on {X.shape[0]} samples\n"
            + "coef          "
            + " ".join(f"{c:.10g}" for c in res.coef)
            + "\n"
            + f"intercept     {res.intercept:.10g}\n"
            + f"loss          {res.fun:.12g}\n"
            + f"status        {res.status} ({'certified' if res.certified else 'not certified'}), "
            f"{res.n_vertices} vertices, {res.kinks_crossed} kinks crossed, {wall:.3f} s\n"
        )

    return Outcome(result, EXIT_OK if res.certified else EXIT_INCOMPLETE, text)
