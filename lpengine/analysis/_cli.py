"""``lpengine analyze``: analyse a Deep ReLU Simplex trajectory (or run one from a problem file).

Input is either

* a trajectory graph (``.graphml``, ``.gexf`` or node-link ``.json``) written from
  ``DRSResult.trajectory`` (nodes with ``loss`` and ``iteration``), with the vertex
  side table given by ``--thetas FILE.npy`` (optional; needed for the density), or
* a problem file ``PROBLEM.toml``, run with the Deep ReLU Simplex first::

      [network]
      file = "net.npz"                      # ReLUNetwork.save format, relative to the TOML
      # or: random = { n_in = 4, widths = [5, 4, 2], seed = 1 }
      [data]
      file = "data.npz"                     # arrays X (n_samples, n_in) and y (n_samples,)
      # or: random = { n_samples = 100, low = -3.0, high = 3.0, seed = 0 }   # x, y ~ U(low, high)
      [train]                               # all optional
      layer = 0
      quantile = 0.5
      seed = 0
      max_pivots = 100000
      time_limit = 60.0
      line_search = false                   # false: vertex-by-vertex walk (as in Hinz 2021)

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

__all__ = ["register", "run", "load_problem_toml"]

logger = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "analyze",
        help="analyse a simplex trajectory: decay of the loss, L* estimates, vertex density, plots",
        description="Analyse a Deep ReLU Simplex trajectory (.graphml/.gexf/.json) or run one from a PROBLEM.toml.",
    )
    p.add_argument("input", type=Path, metavar="TRAJECTORY_OR_PROBLEM",
                   help="trajectory graph (.graphml, .gexf, .json) or problem file (.toml)")
    p.add_argument("--thetas", type=Path, default=None, metavar="FILE.npy",
                   help="visited vertices (n_vertices, D) for a trajectory graph")
    p.add_argument("--plots", type=Path, default=None, metavar="DIR", help="write PNG plots into DIR")
    p.add_argument("--window", type=int, default=None, help="decay-fit window (default n/10)")
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


def load_problem_toml(path: Path) -> tuple[Any, np.ndarray, np.ndarray, dict[str, Any]]:
    """Read a PROBLEM.toml (schema in the module docstring): ``(net, X, y, train_options)``."""
    import tomllib

    from ..network import ReLUNetwork

    try:
        spec = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise InvalidProblemError(f"{path}: not valid TOML: {exc}") from exc
    base = path.parent
    net_spec = spec.get("network")
    if not isinstance(net_spec, dict) or not ({"file", "random"} & set(net_spec)):
        raise InvalidProblemError(f"{path}: [network] needs 'file' or 'random'.")
    if "file" in net_spec:
        net = ReLUNetwork.load(base / net_spec["file"])
    else:
        r = net_spec["random"]
        try:
            net = ReLUNetwork.random(int(r["n_in"]), [int(v) for v in r["widths"]], seed=r.get("seed"))
        except KeyError as exc:
            raise InvalidProblemError(f"{path}: [network].random lacks {exc}.") from exc
    data = spec.get("data")
    if not isinstance(data, dict) or not ({"file", "random"} & set(data)):
        raise InvalidProblemError(f"{path}: [data] needs 'file' or 'random'.")
    if "file" in data:
        with np.load(base / data["file"]) as f:
            if "X" not in f or "y" not in f:
                raise InvalidProblemError(f"{path}: data file {data['file']} must hold arrays 'X' and 'y'.")
            X, y = np.asarray(f["X"], dtype=np.float64), np.asarray(f["y"], dtype=np.float64)
    else:
        r = data["random"]
        rng = np.random.default_rng(r.get("seed"))
        lo, hi = float(r.get("low", -3.0)), float(r.get("high", 3.0))
        n = int(r["n_samples"])
        X = rng.uniform(lo, hi, (n, net.n_in))
        y = rng.uniform(lo, hi, n)
    train = dict(spec.get("train", {}))
    allowed = {"layer", "quantile", "seed", "max_pivots", "time_limit", "line_search"}
    bad = sorted(set(train) - allowed)
    if bad:
        raise InvalidProblemError(f"{path}: unknown [train] keys {bad}; allowed: {sorted(allowed)}.")
    train.setdefault("line_search", False)
    return net, X, y, train


def _finite(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def run(args: argparse.Namespace) -> int:
    from ..cli import emit_json
    from .report import analyze_trajectory, save_plots
    from .trajectory import Trajectory

    path: Path = args.input
    if not path.exists():
        raise InvalidProblemError(f"{path}: no such file.")
    extra: dict[str, Any] = {"input": str(path)}
    if path.suffix.lower() == ".toml":
        from ..simplex import deep_relu_simplex

        net, X, y, train = load_problem_toml(path)
        res = deep_relu_simplex(net, X, y, **train)
        traj = Trajectory.from_result(res)
        extra.update({"status": res.status, "nit": int(res.nit)})
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
        out = [f"{summary['n_vertices']} vertices, loss {summary['initial_loss']:.6g} -> {summary['final_loss']:.6g}"
               f" (certified: {summary['certified']})"]
        if "tail_fit" in summary:
            tf = summary["tail_fit"]
            out.append(f"tail fit L* = {tf['l_star']:.6g} ± {tf['l_star_se']}, q = {tf['q']:.6f} ({tf['status']})")
        for e in summary["estimates"]:
            out.append(f"  at {e['fraction']:.0%} ({e['k']} vertices) {e['method']:>15}: L* ≈ {e['estimate']:.6g}"
                       f"  |err| {e['error_vs_final']:.3g}  [{e['status']}]")
        if "density" in summary:
            d = summary["density"]
            out.append(f"steps early/late {d['step_ratio_early_late']}, Spearman(step, distance) "
                       f"{d['spearman_step_distance']:.3f}")
        sys.stdout.write("\n".join(out) + "\n")
    return 0


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return _finite(obj)
