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
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import InvalidProblemError

__all__ = ["register", "run"]

logger = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
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
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=run)


def _read_graph(path: Path) -> Any:
    try:
        from ..export import read_graph  # written by the simplex/export module when present
    except ImportError:
        read_graph = None
    if read_graph is not None:
        return read_graph(path)
    import json

    import networkx as nx

    suffix = path.suffix.lower()
    if suffix == ".graphml":
        return nx.read_graphml(path)
    if suffix == ".gexf":
        return nx.read_gexf(path)
    if suffix == ".json":
        return nx.node_link_graph(json.loads(path.read_text()), edges="links")
    raise InvalidProblemError(f"{path}: unknown trajectory format {suffix!r}; expected .graphml, .gexf or .json.")


def _solve_problem_file(path: Path, args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """Load a ``lpengine solve`` problem file, run its task, return ``(Trajectory, extra summary)``."""
    from ..analysis.trajectory import Trajectory
    from ..simplex.problem import load_problem, solve_problem

    problem = load_problem(path)
    overrides: dict[str, Any] = {"max_pivots": args.max_pivots, "time_limit": args.time_limit}
    if args.no_line_search:
        overrides["line_search"] = False
    res = solve_problem(problem, **overrides)
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
    return traj, extra


def _finite(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def run(args: argparse.Namespace) -> int:
    from ..analysis.report import analyze_trajectory, save_plots
    from ..analysis.trajectory import Trajectory
    from .common import emit_json

    path: Path = args.input
    if not path.exists():
        raise InvalidProblemError(f"{path}: no such file.")
    extra: dict[str, Any] = {"input": str(path)}
    if path.suffix.lower() == ".toml":
        traj, more = _solve_problem_file(path, args)
        extra.update(more)
    else:
        G = _read_graph(path)
        thetas = None
        if args.thetas is not None:
            thetas = np.load(args.thetas)
            if isinstance(thetas, np.lib.npyio.NpzFile):
                thetas = thetas[thetas.files[0]]
        traj = Trajectory.from_graph(G, thetas)
    analysis = analyze_trajectory(traj, window=args.window)
    summary = {**extra, **analysis.summary()}
    if args.plots is not None:
        summary["plots"] = [str(p) for p in save_plots(traj, analysis, args.plots)]
    if args.json:
        emit_json(_clean(summary))
    else:
        out = [
            f"{summary['n_vertices']} vertices, loss {summary['initial_loss']:.6g} -> {summary['final_loss']:.6g}"
            f" (certified: {summary['certified']})"
        ]
        if "tail_fit" in summary:
            tf = summary["tail_fit"]
            out.append(f"tail fit L* = {tf['l_star']:.6g} ± {tf['l_star_se']}, q = {tf['q']:.6f} ({tf['status']})")
        for e in summary["estimates"]:
            out.append(
                f"  at {e['fraction']:.0%} ({e['k']} vertices) {e['method']:>15}: L* ≈ {e['estimate']:.6g}"
                f"  |err| {e['error_vs_final']:.3g}  [{e['status']}]"
            )
        if "density" in summary:
            d = summary["density"]
            out.append(
                f"steps early/late {d['step_ratio_early_late']}, Spearman(step, distance) "
                f"{d['spearman_step_distance']:.3f}"
            )
        sys.stdout.write("\n".join(out) + "\n")
    return 0


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return _finite(obj)
