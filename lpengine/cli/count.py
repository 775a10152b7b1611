"""``lpengine count``: exact region count of a network in a box, polytope or R^d."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_numpy_file
from ..exceptions import InvalidDomainError
from ..network import ReLUNetwork
from .common import EXIT_INCOMPLETE, EXIT_OK, CtrlC, Outcome, Progress, UsageError, add_command, add_progress_flag

__all__ = ["register", "run", "load_polytope", "add_domain_flags", "domain_kwargs", "network_info"]


def register(sub: Any) -> None:
    """Add the ``count`` subcommand."""
    p = add_command(
        sub,
        "count",
        help="count and describe the activation regions of a network exactly",
        description="Enumerate every full-dimensional activation region of a ReLU network (hidden units only). "
        "Default domain: the box [-1, 1]^n_in. A budget or Ctrl-C stops early with the regions found so far "
        "(exit 3: the count is then a lower bound).",
    )
    p.add_argument("--net", required=True, type=Path, help="network file (.npz: W0, b0, ..., has_output_layer)")
    add_domain_flags(p)
    p.add_argument(
        "--method",
        choices=["auto", "vertex", "hybrid", "lp", "scan"],
        default="auto",
        help="facet method (default auto)",
    )
    p.add_argument("--max-regions", type=int, default=None, help="stop after this many regions (partial result)")
    p.add_argument("--time-limit", type=float, default=None, help="stop after this many seconds (partial result)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes sharing the region work (default 1)")
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the search on the Dask cluster at ADDRESS (e.g. tcp://host:8786; needs the "
        "'distributed' extra), owner-partitioned; --jobs is then ignored",
    )
    p.add_argument(
        "--partitions",
        type=int,
        default=None,
        metavar="W",
        help="with --scheduler: split the patterns among W partitions (default: the cluster's worker threads)",
    )
    p.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        metavar="FILE",
        help="write the search state to FILE every few seconds (atomically) and at the end",
    )
    p.add_argument(
        "--checkpoint-every", type=float, default=5.0, metavar="SECONDS", help="seconds between checkpoints (default 5)"
    )
    p.add_argument(
        "--resume",
        type=Path,
        default=None,
        metavar="FILE",
        help="go on from a checkpoint written for the same network, domain and settings (and keep checkpointing "
        "to FILE unless --checkpoint names another)",
    )
    p.add_argument(
        "--graph",
        type=Path,
        default=None,
        metavar="OUT",
        help="write the region adjacency graph (.graphml, .gexf or .json node-link) with witness coordinates "
        "(and polygon centroids for 2 inputs) as node attributes",
    )
    p.add_argument(
        "--regions", type=Path, default=None, metavar="OUT.npz", help="write patterns, witnesses and margins to .npz"
    )
    p.add_argument(
        "--plot",
        type=Path,
        default=None,
        metavar="FILE.png",
        help="draw the exact region polygons (networks with 2 inputs; format from the suffix: .png, .svg, .pdf)",
    )
    p.add_argument(
        "--no-keep-regions",
        action="store_true",
        help="keep only the count and statistics, not every region (no --graph/--regions/--plot)",
    )
    p.add_argument(
        "--shards",
        type=Path,
        default=None,
        metavar="DIR",
        help="with --no-keep-regions: write the regions to DIR in .npz shards (an empty folder; with --checkpoint, "
        "--resume goes on in the same DIR and keeps every region in exactly one shard)",
    )
    add_progress_flag(p)
    p.set_defaults(func=run)


def add_domain_flags(p: argparse.ArgumentParser) -> None:
    """``--box LO HI`` | ``--polytope FILE`` | ``--whole-space`` (shared with ``crosscheck``)."""
    dom = p.add_mutually_exclusive_group()
    dom.add_argument("--box", nargs=2, type=float, metavar=("LO", "HI"), help="the box [LO, HI]^n_in (default -1 1)")
    dom.add_argument(
        "--polytope",
        type=Path,
        metavar="FILE",
        help='polytope {x : A x <= c} from .npz (arrays A, c) or .json ({"A": [[..]], "c": [..]})',
    )
    dom.add_argument("--whole-space", action="store_true", help="all of R^n_in")


def domain_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The domain keyword of ``enumerate_regions`` chosen by :func:`add_domain_flags`."""
    if args.whole_space:
        return {"whole_space": True}
    if args.polytope is not None:
        return {"polytope": load_polytope(args.polytope)}
    return {"box": tuple(args.box) if args.box else (-1.0, 1.0)}


def network_info(net: ReLUNetwork, path: Path) -> dict[str, Any]:
    """The input network as reported in the JSON result."""
    return {
        "n_in": net.n_in,
        "hidden_widths": list(net.hidden_widths),
        "n_out": net.n_out if net.has_output_layer else None,
        "file": str(path),
    }


def load_polytope(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read ``(A, c)`` from .npz or .json."""
    if path.suffix == ".npz":
        check_numpy_file(path, what="polytope file", error=InvalidDomainError)
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


def run(args: argparse.Namespace) -> Outcome:
    """Entry point of ``lpengine count``."""
    import warnings

    from ..bundled import find_problem_file
    from ..regions.enumerate import enumerate_regions

    args.net = find_problem_file(args.net, suffixes=(".npz",))  # a bare name may be a bundled network
    net = ReLUNetwork.load(args.net)
    if args.plot is not None and net.n_in != 2:
        raise UsageError(f"--plot draws networks with 2 inputs; {args.net} has n_in = {net.n_in}.")
    kw = domain_kwargs(args)
    if args.shards is not None and not args.no_keep_regions:
        raise UsageError("--shards goes with --no-keep-regions.")
    if args.partitions is not None and not args.scheduler:
        raise UsageError("--partitions goes with --scheduler (the Dask search); use --jobs for local processes.")
    if args.partitions is not None and args.partitions < 1:
        raise UsageError(f"--partitions must be a positive integer. Got {args.partitions} instead.")
    if args.no_keep_regions and (args.graph or args.regions or args.plot):
        raise UsageError("--graph, --regions and --plot need the regions; drop --no-keep-regions.")
    if args.no_keep_regions:
        kw["keep_regions"] = False
        if args.shards is not None:
            kw["shards_dir"] = args.shards
    progress = Progress(args.progress)

    def callback(state: Any) -> bool:
        rate = state.regions / state.seconds if state.seconds > 0 else 0.0
        progress.update(
            f"  regions {state.regions:>9,d}   frontier {state.queued:>8,d}   {rate:>8,.0f} regions/s   "
            f"LPs {state.lp_solves:>9,d}   {state.workers} proc   {state.seconds:7.1f} s"
        )
        return ctrl_c.pressed  # Ctrl-C or SIGTERM: stop and report the regions found so far

    client = _connect(args.scheduler) if args.scheduler else None
    try:
        with CtrlC() as ctrl_c, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # incompleteness is reported in the summary instead
            res = enumerate_regions(
                net,
                method=args.method,
                max_regions=args.max_regions,
                time_limit=args.time_limit,
                n_jobs=args.jobs,
                callback=callback,
                checkpoint=args.checkpoint,
                checkpoint_every=args.checkpoint_every,
                resume=args.resume,
                client=client,
                partitions=args.partitions,
                **kw,
            )
    finally:
        if client is not None:
            client.close()
    progress.close(
        f"  regions {res.count:>9,d}   {'complete' if res.complete else 'INCOMPLETE'}   "
        f"LPs {res.lp_solves:>9,d}   {res.seconds:7.1f} s"
    )
    if args.graph is not None:
        from ..export import region_graph, write_graph

        write_graph(region_graph(res), args.graph)
    if args.regions is not None:
        np.savez(
            args.regions,
            patterns=np.stack([r.pattern.signs for r in res.regions])
            if res.regions
            else np.zeros((0, net.n_hidden), np.int8),
            witnesses=np.stack([r.witness for r in res.regions]) if res.regions else np.zeros((0, net.n_in)),
            margins=np.array([r.margin for r in res.regions]),
        )
    result = res.to_dict()
    if args.plot is not None:
        from ..regions.plot import write_regions_plot

        result["plot"] = str(write_regions_plot(res, args.plot))
    if ctrl_c.pressed and not res.complete:
        result["message"] = ctrl_c.reason
    result["network"] = network_info(net, args.net)
    code = EXIT_OK if res.complete else EXIT_INCOMPLETE
    return Outcome(result, code, lambda: _text(args, net, res, result))


def _connect(address: str) -> Any:
    """A Dask client of the scheduler at ``address`` (clear errors when Dask is missing or unreachable)."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise UsageError(
            "--scheduler needs Dask's distributed scheduler: pip install 'lpengine[distributed]'."
        ) from exc
    try:
        return Client(address, timeout=30)
    except (OSError, TimeoutError) as exc:
        raise OSError(f"could not reach the Dask scheduler at {address!r} ({exc}).") from exc


def _text(args: argparse.Namespace, net: ReLUNetwork, res: Any, summary: dict[str, Any]) -> str:
    lines = []
    status = "complete" if res.complete else f"INCOMPLETE ({summary['message']}): only bounds are known"
    lines.append(f"network   {net!r}  ({args.net})")
    lines.append(f"domain    {res.domain}")
    count = f"{res.count:,d}" if res.complete else f"[{res.count_lower:,d}, ?] (lower bound {res.count_lower:,d})"
    lines.append(f"regions   {count}   [{status}]")
    if summary.get("bounded_regions") is not None and not args.box and (args.whole_space or args.polytope):
        lines.append(f"bounded   {summary['bounded_regions']:,d}")
    lines.append(
        f"adjacency {res.graph.number_of_edges():,d} shared facets; mean degree "
        f"{2 * res.graph.number_of_edges() / max(res.count, 1):.2f}"
    )
    lines.append(
        f"work      {res.seconds:.3f} s, {res.lp_solves:,d} LPs ({summary['lp_solves_per_region']:.2f}/region), "
        f"method {res.method}, {res.processes} process{'es' if res.processes > 1 else ''}"
    )
    if res.regions:
        lines.append(
            f"certificate  every region has an interior witness; smallest inscribed-ball margin "
            f"{summary['min_margin']:.3g}"
        )
    if res.thin_patterns:
        lines.append(f"thin      {len(res.thin_patterns)} counted region(s) thinner than the margin tolerance")
    if res.undecided_patterns:
        lines.append(f"undecided {len(res.undecided_patterns)} pattern(s)")
    lines.append("layer  width  regions(first l layers)  mean active  never active  always active")
    for s in res.layer_stats:
        lines.append(
            f"{s['layer']:>5d}  {s['width']:>5d}  {s['prefix_regions']:>23,d}  {s['mean_active']:>11.2f}  "
            f"{s['never_active']:>12d}  {s['always_active']:>13d}"
        )
    if "output_rank_histogram" in summary:
        lines.append(f"output-map rank histogram: {summary['output_rank_histogram']}")
    if "plot" in summary:
        lines.append(f"picture   {summary['plot']}")
    return "\n".join(lines) + "\n"
