"""``lpengine solve PROBLEM.toml``: the Deep ReLU Simplex (or a LAD fit, or argument minimisation) on a problem file."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np

__all__ = ["register", "run_solve"]


def register(subparsers: Any) -> None:
    """Add the ``solve`` subcommand."""
    p = subparsers.add_parser(
        "solve",
        help="run a problem file (Deep ReLU Simplex / LAD / argument minimisation)",
        description="Solve a problems/*.toml file with the Deep ReLU Simplex and certify the end point.",
    )
    p.add_argument("problem", metavar="PROBLEM.toml", help="problem file (see lpengine.simplex.problem)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--graph", metavar="OUT", help="write the vertex trajectory (.graphml, .gexf or .json)")
    p.add_argument("--max-pivots", type=int, metavar="K", help="pivot budget (overrides the file)")
    p.add_argument("--time-limit", type=float, metavar="S", help="time budget in seconds (overrides the file)")
    p.add_argument("--no-line-search", action="store_true", help="single-crossing pivots (plain simplex steps)")
    p.add_argument("--verify", action="store_true", help="check every vertex against its HiGHS region LP (slow)")
    p.add_argument("--quiet", action="store_true", help="no live progress on stderr")
    p.add_argument(
        "--engine",
        choices=("native", "highs"),
        default=None,
        help="pivot engine for task = 'train' (overrides the file; default native)",
    )
    p.set_defaults(func=run_solve)


class _Progress:
    """Live progress line on stderr (rewritten in place on a terminal, every 0.5 s otherwise)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, state: Any) -> None:
        if not self.enabled:
            return None
        now = time.perf_counter()
        if now - self.last < (0.1 if self.tty else 0.5):
            return None
        self.last = now
        rate = state.iteration / state.elapsed if state.elapsed > 0 else 0.0
        msg = (
            f"pivot {state.iteration:>8d}  loss {state.loss:.10g}  region changes {state.region_changes:>7d}  "
            f"kinks crossed {state.kinks_crossed:>9d}  {rate:,.0f} pivots/s"
        )
        sys.stderr.write(("\r" + msg) if self.tty else (msg + "\n"))
        sys.stderr.flush()
        return None

    def close(self) -> None:
        if self.enabled and self.tty and self.last:
            sys.stderr.write("\n")


def _cert_dict(c: Any) -> dict | None:
    if c is None:
        return None
    return {
        "certified": c.certified,
        "ray_test": c.ray_test,
        "n_rays": c.n_rays,
        "min_slope": c.min_slope,
        "degenerate": c.degenerate,
        "n_tight_hidden": c.n_tight_hidden,
        "n_cells": str(c.n_cells),
        "n_cells_checked": c.n_cells_checked,
        "n_cells_infeasible": c.n_cells_infeasible,
        "sampled": c.sampled,
        "sample_seed": c.sample_seed,
        "lp_confirmed": c.lp_confirmed,
        "max_lp_gap": None if not np.isfinite(c.max_lp_gap) else c.max_lp_gap,
        "reason": c.reason,
    }


def run_solve(args: argparse.Namespace) -> int:
    """Entry point of ``lpengine solve``."""
    from ..export import write_graph
    from ..simplex.lad import LADResult
    from ..simplex.problem import load_problem, solve_problem
    from .common import emit_json

    prob = load_problem(args.problem)
    prog = _Progress(not args.quiet and prob.task != "lad")
    over: dict[str, Any] = {"max_pivots": args.max_pivots, "time_limit": args.time_limit}
    if args.no_line_search:
        over["line_search"] = False
    if args.verify:
        over["verify"] = True
    if args.engine is not None:
        if prob.task != "train":
            print(
                f"lpengine solve: --engine applies to task = 'train' only; this problem's task is {prob.task!r}.",
                file=sys.stderr,
            )
            return 2
        over["engine"] = args.engine
    import contextlib

    from .common import CtrlC

    # Ctrl-C stops a walk at the current vertex and the partial trajectory is reported.  A LAD fit
    # has no callback to poll the request, so there Ctrl-C keeps its usual meaning.
    ctrl_c = CtrlC()
    if prob.task != "lad":
        over["callback"] = lambda state: bool(prog(state)) or ctrl_c.pressed
    t0 = time.perf_counter()
    with ctrl_c if prob.task != "lad" else contextlib.nullcontext():
        res = solve_problem(prob, **over)
    wall = time.perf_counter() - t0
    interrupted = ctrl_c.pressed and getattr(res, "status", None) == "stopped"
    prog.close()
    if isinstance(res, LADResult):
        out = {
            "problem": prob.name,
            "task": prob.task,
            "status": res.status,
            "certified": res.certified,
            "fun": res.fun,
            "coef": res.coef.tolist(),
            "intercept": res.intercept,
            "quantile": res.quantile,
            "nit": res.nit,
            "n_vertices": res.n_vertices,
            "kinks_crossed": res.kinks_crossed,
            "seconds": wall,
            "certificate": _cert_dict(res.certificate),
        }
        if args.graph:
            sys.stderr.write("lpengine solve: --graph ignored for a LAD problem (no trajectory graph)\n")
    else:
        out = {
            "problem": prob.name,
            "task": prob.task,
            "status": res.status,
            "certified": res.certified,
            "start_loss": res.start_loss,
            "first_vertex_loss": float(res.losses[0]) if res.losses.size else None,
            "fun": res.fun,
            "theta": res.theta.tolist(),
            "nit": res.nit,
            "n_vertices": int(res.losses.size),
            "region_changes": res.region_changes,
            "kinks_crossed": int(res.stats["kinks_crossed"]),
            "escapes": int(res.stats["escapes"]),
            "seconds": wall,
            "vertices_per_second": (res.nit / res.stats["seconds"]) if res.stats["seconds"] > 0 else None,
            "message": CtrlC.message if interrupted else res.message,
            "certificate": _cert_dict(res.certificate),
        }
        if args.graph:
            write_graph(res.trajectory, args.graph)
            out["graph"] = args.graph
    if args.json:
        emit_json(out)
        return 1 if interrupted else 0
    w = sys.stdout.write
    w(f"problem       {prob.name} ({prob.task})\n")
    if "start_loss" in out:
        w(f"start loss    {out['start_loss']:.12g}\n")
    w(f"final loss    {out['fun']:.12g}\n")
    w(f"status        {out['status']}{' (' + CtrlC.message + ')' if interrupted else ''}\n")
    w(f"vertices      {out['n_vertices']}  (pivots {out['nit']}, kinks crossed {out['kinks_crossed']})\n")
    if "region_changes" in out:
        w(f"region changes {out['region_changes']}\n")
    c = out["certificate"]
    w(f"certificate   {'CERTIFIED' if out['certified'] else 'not certified'}: {c['reason'] if c else 'no vertex'}\n")
    w(f"time          {wall:.3f} s\n")
    if args.graph and "graph" in out:
        w(f"trajectory    {args.graph}\n")
    return 1 if interrupted else 0
