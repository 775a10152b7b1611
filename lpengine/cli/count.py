"""``lpengine count``: exact region count of a network in a box, polytope or R^d."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import InvalidDomainError
from ..network import ReLUNetwork

__all__ = ["register", "run", "load_polytope"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "count",
        help="count and describe the activation regions of a network exactly",
        description="Enumerate every full-dimensional activation region of a ReLU network (hidden units only). "
        "Default domain: the box [-1, 1]^n_in.",
    )
    p.add_argument("--net", required=True, type=Path, help="network file (.npz: W0, b0, ..., has_output_layer)")
    dom = p.add_mutually_exclusive_group()
    dom.add_argument("--box", nargs=2, type=float, metavar=("LO", "HI"), help="the box [LO, HI]^n_in (default -1 1)")
    dom.add_argument(
        "--polytope",
        type=Path,
        metavar="FILE",
        help='polytope {x : A x <= c} from .npz (arrays A, c) or .json ({"A": [[..]], "c": [..]})',
    )
    dom.add_argument("--whole-space", action="store_true", help="all of R^n_in")
    p.add_argument(
        "--method", choices=["auto", "vertex", "hybrid", "lp"], default="auto", help="facet method (default auto)"
    )
    p.add_argument("--max-regions", type=int, default=None, help="stop after this many regions (partial result)")
    p.add_argument("--time-limit", type=float, default=None, help="stop after this many seconds (partial result)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes sharing the region work (default 1)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument(
        "--graph",
        type=Path,
        default=None,
        metavar="OUT",
        help="write the region adjacency graph (.graphml, .gexf or .json node-link)",
    )
    p.add_argument(
        "--regions", type=Path, default=None, metavar="OUT.npz", help="write patterns, witnesses and margins to .npz"
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="live progress on stderr (default: when stderr is a terminal)",
    )
    p.set_defaults(func=run)


def load_polytope(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read ``(A, c)`` from .npz or .json."""
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as f:
            if "A" not in f.files or "c" not in f.files:
                raise InvalidDomainError(
                    f"polytope file {str(path)!r} must contain arrays 'A' and 'c'; found {f.files}."
                )
            return np.array(f["A"]), np.array(f["c"])
    if path.suffix == ".json":
        try:
            obj = json.loads(path.read_text())
            return np.asarray(obj["A"], dtype=float), np.asarray(obj["c"], dtype=float)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidDomainError(
                f'polytope file {str(path)!r}: expected {{"A": [[...]], "c": [...]}} ({exc}).'
            ) from exc
    raise InvalidDomainError(f"polytope file {str(path)!r}: unknown extension (use .npz or .json).")


def run(args: argparse.Namespace) -> int:
    from ..regions.enumerate import enumerate_regions

    net = ReLUNetwork.load(args.net)
    kw: dict[str, Any] = {}
    if args.whole_space:
        kw["whole_space"] = True
    elif args.polytope is not None:
        kw["polytope"] = load_polytope(args.polytope)
    else:
        kw["box"] = tuple(args.box) if args.box else (-1.0, 1.0)
    show = sys.stderr.isatty() if args.progress is None else args.progress

    def callback(state: Any) -> bool:
        if show:
            sys.stderr.write(
                f"\r  regions {state.regions:>9,d}   queued {state.queued:>8,d}   "
                f"LPs {state.lp_solves:>9,d}   {state.seconds:7.1f} s"
            )
            sys.stderr.flush()
        return ctrl_c.pressed  # Ctrl-C: stop and report the regions found so far

    import warnings

    from .common import CtrlC

    with CtrlC() as ctrl_c, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # incompleteness is reported in the summary instead
        res = enumerate_regions(
            net,
            method=args.method,
            max_regions=args.max_regions,
            time_limit=args.time_limit,
            n_jobs=args.jobs,
            callback=callback,
            **kw,
        )
    if show:
        sys.stderr.write("\n")
    if args.graph is not None:
        from ..export import write_graph

        write_graph(res.graph, args.graph)
    if args.regions is not None:
        np.savez(
            args.regions,
            patterns=np.stack([r.pattern.signs for r in res.regions])
            if res.regions
            else np.zeros((0, net.n_hidden), np.int8),
            witnesses=np.stack([r.witness for r in res.regions]) if res.regions else np.zeros((0, net.n_in)),
            margins=np.array([r.margin for r in res.regions]),
        )
    summary = res.summary()
    if ctrl_c.pressed and not res.complete:
        summary["message"] = CtrlC.message
    summary["network"] = {
        "n_in": net.n_in,
        "hidden_widths": list(net.hidden_widths),
        "n_out": net.n_out if net.has_output_layer else None,
        "file": str(args.net),
    }
    if args.json:
        from .common import emit_json

        emit_json(summary)
    else:
        out = sys.stdout
        status = "complete" if res.complete else f"INCOMPLETE ({summary['message']}): the count is a lower bound"
        out.write(f"network   {net!r}  ({args.net})\n")
        out.write(f"domain    {res.domain}\n")
        out.write(f"regions   {res.count:,d}   [{status}]\n")
        if summary.get("bounded_regions") is not None and not args.box and (args.whole_space or args.polytope):
            out.write(f"bounded   {summary['bounded_regions']:,d}\n")
        out.write(
            f"adjacency {res.graph.number_of_edges():,d} shared facets; mean degree "
            f"{2 * res.graph.number_of_edges() / max(res.count, 1):.2f}\n"
        )
        out.write(
            f"work      {res.seconds:.3f} s, {res.lp_solves:,d} LPs ({summary['lp_solves_per_region']:.2f}/region), "
            f"method {res.method}, {res.processes} process{'es' if res.processes > 1 else ''}\n"
        )
        out.write(
            f"certificate  every region has an interior witness; smallest inscribed-ball margin "
            f"{summary['min_margin']:.3g}\n"
            if res.regions
            else ""
        )
        if res.thin_patterns:
            out.write(f"skipped   {len(res.thin_patterns)} pattern(s) thinner than the margin tolerance\n")
        out.write("layer  width  regions(first l layers)  mean active  never active  always active\n")
        for s in res.layer_stats:
            out.write(
                f"{s['layer']:>5d}  {s['width']:>5d}  {s['prefix_regions']:>23,d}  {s['mean_active']:>11.2f}  "
                f"{s['never_active']:>12d}  {s['always_active']:>13d}\n"
            )
        if "output_rank_histogram" in summary:
            out.write(f"output-map rank histogram: {summary['output_rank_histogram']}\n")
    return 0 if res.complete else 1
