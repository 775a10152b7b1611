"""``lpengine analyze``: analyse a Deep ReLU Simplex trajectory (or run one from a problem file).

Input is either

* a trajectory graph (``.graphml``, ``.gexf`` or node-link ``.json``) written from
  ``DRSResult.trajectory`` (nodes with ``loss`` and ``iteration``), with the vertex
  side table given by ``--thetas FILE.npy`` (optional; needed for the density), or
* a problem file ``PROBLEM.toml`` in the schema of ``lpengine solve`` (the shipped
  ``problems/*.toml``; layout in :mod:`lpengine.simplex.problem`), read with
  :func:`lpengine.simplex.problem.load_problem` and solved first with the file's
  solver options.  ``--no-line-search`` (a vertex-by-vertex walk, as in Hinz 2021),
  ``--max-pivots`` and ``--time-limit`` override the file.

Prints a summary (or one JSON object with ``--json``) and writes PNG plots with ``--plots DIR``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import InvalidProblemError
from .common import EXIT_INCOMPLETE, EXIT_OK, CtrlC, Outcome, Progress, add_command, add_progress_flag
from .solve import drs_callback

__all__ = ["register", "run"]

logger = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "analyze",
        help="analyse a simplex trajectory: decay of the loss, L* estimates, vertex density, plots",
        description="Analyse a Deep ReLU Simplex trajectory (.graphml/.gexf/.json) or solve a problem file "
        "(.toml, the schema of 'lpengine solve') and analyse its trajectory.",
    )
    p.add_argument(
        "input",
        type=Path,
        metavar="TRAJECTORY_OR_PROBLEM",
        help="trajectory graph (.graphml, .gexf, .json) or problem file (.toml)",
    )
    p.add_argument(
        "--thetas",
        type=Path,
        default=None,
        metavar="FILE.npy",
        help="visited vertices (n_vertices, D) for a trajectory graph",
    )
    p.add_argument("--plots", type=Path, default=None, metavar="DIR", help="write PNG plots into DIR")
    p.add_argument("--window", type=int, default=None, help="decay-fit window (default n/10)")
    p.add_argument(
        "--no-line-search",
        action="store_true",
        help="problem file: walk vertex by vertex (single-crossing pivots; overrides the file)",
    )
    p.add_argument("--max-pivots", type=int, default=None, metavar="K", help="problem file: pivot budget (overrides)")
    p.add_argument(
        "--time-limit", type=float, default=None, metavar="S", help="problem file: time budget in seconds (overrides)"
    )
    add_progress_flag(p)
    p.set_defaults(func=run)


def _solve_problem_file(path: Path, args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """Load a ``lpengine solve`` problem file, run its task, return ``(Trajectory, extra summary)``."""
    from ..analysis.trajectory import Trajectory
    from ..simplex.problem import load_problem, solve_problem

    problem = load_problem(path)
    overrides: dict[str, Any] = {"max_pivots": args.max_pivots, "time_limit": args.time_limit}
    if args.no_line_search:
        overrides["line_search"] = False
    progress = Progress(args.progress)
    with CtrlC() as ctrl_c:
        overrides["callback"] = drs_callback(progress, ctrl_c)
        res = solve_problem(problem, **overrides)
    progress.close(f"done  {res.status}: loss {res.fun:.12g} after {res.nit} pivots")
    thetas = getattr(res, "thetas", None)
    traj = Trajectory(
        np.asarray(res.losses, dtype=np.float64),
        None if thetas is None else np.asarray(thetas, dtype=np.float64),
        bool(res.certified),
    )
    line_search = bool(problem.options["line_search"]) and not args.no_line_search
    extra = {
        "problem": problem.name,
        "task": problem.task,
        "status": str(res.status),
        "nit": int(res.nit),
        "line_search": line_search,
    }
    # Vertices = pivots + 1 + restarts (from a point of lower loss found by the certificate's LPs).
    stats = getattr(res, "stats", None) or {}
    for key in ("escapes", "revivals"):
        if key in stats:
            extra[key] = int(stats[key])
    if ctrl_c.pressed and res.status == "interrupted":
        extra["message"] = f"{ctrl_c.reason}: {res.message}"
    return traj, extra


def run(args: argparse.Namespace) -> Outcome:
    """Entry point of ``lpengine analyze``."""
    from ..analysis.report import analyze_trajectory, save_plots
    from ..analysis.trajectory import Trajectory
    from ..export import read_graph

    path: Path = args.input
    if not path.exists():
        raise InvalidProblemError(f"{path}: no such file.")
    extra: dict[str, Any] = {"input": str(path)}
    if path.suffix.lower() == ".toml":
        traj, more = _solve_problem_file(path, args)
        extra.update(more)
    else:
        G = read_graph(path)
        thetas = None
        if args.thetas is not None:
            thetas = np.load(args.thetas)
            if isinstance(thetas, np.lib.npyio.NpzFile):
                thetas = thetas[thetas.files[0]]
        traj = Trajectory.from_graph(G, thetas)
    analysis = analyze_trajectory(traj, window=args.window)
    summary = {**extra, **analysis.to_dict()}
    if args.plots is not None:
        summary["plots"] = [str(p) for p in save_plots(traj, analysis, args.plots)]
    # Analysing a given trajectory is complete; a run made here is incomplete unless its end point is certified.
    code = EXIT_INCOMPLETE if "task" in extra and not summary["certified"] else EXIT_OK
    return Outcome(summary, code, lambda: analysis.to_text() + "\n")
