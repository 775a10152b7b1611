"""``lpengine bounds``: every region-count bound for an architecture, optionally beside exact counts."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..exceptions import InvalidNetworkError
from .common import EXIT_FAILURE, EXIT_INCOMPLETE, EXIT_OK, Outcome, Progress, add_command, add_progress_flag

__all__ = ["register", "run", "parse_widths"]


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "bounds",
        help="every upper and lower bound on the number of regions, exact integers",
        description="Print every known bound on the number of activation regions for input dimension N and hidden "
        "widths a,b,c; with --net, the exact per-layer counts and histograms of that network beside them.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--widths", type=parse_widths, metavar="a,b,c", help="hidden widths n_1..n_L (with --n0)")
    src.add_argument(
        "--net",
        type=Path,
        metavar="FILE.npz",
        help="network file, or the name of a bundled network (regions_default): its architecture and exact counts",
    )
    p.add_argument("--n0", type=int, default=None, metavar="N", help="input dimension (with --widths)")
    p.add_argument(
        "--ranks",
        type=parse_widths,
        default=None,
        metavar="r1,r2,..",
        help="rank W^l per layer, for Serra et al.'s rank variant (with --widths)",
    )
    p.add_argument(
        "--box",
        nargs=2,
        type=float,
        metavar=("LO", "HI"),
        help="domain [LO, HI]^n0 for the exact count with --net (default -1 1)",
    )
    add_progress_flag(p)
    p.set_defaults(func=run)


def parse_widths(text: str) -> list[int]:
    """``"4,4,3"`` -> ``[4, 4, 3]`` (argparse type; rejects empty entries and non-integers)."""
    parts = [t.strip() for t in text.split(",")]
    try:
        out = [int(t) for t in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers like 4,4,3; got {text!r}") from None
    return out


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    s = str(v)
    return s if len(s) <= 24 else f"{s[:6]}...{s[-6:]} ({len(s)} digits)"


def _widths_text(widths: tuple[int, ...]) -> str:
    if len(widths) <= 12:
        return str(list(widths))
    runs: list[list[int]] = []
    for x in widths:
        if runs and runs[-1][0] == x:
            runs[-1][1] += 1
        else:
            runs.append([x, 1])
    return "[" + ", ".join(f"{v}" if k == 1 else f"{v} x {k}" for v, k in runs) + f"] (L = {len(widths)})"


def run(args: argparse.Namespace) -> Outcome:
    """Entry point of ``lpengine bounds``."""
    from ..bounds.table import all_bounds

    emp = None
    if args.net is not None:
        if args.n0 is not None or args.ranks is not None:
            raise InvalidNetworkError("--n0 and --ranks come from the network file; do not combine them with --net.")
        from ..bounds.empirical import layer_histograms, matrix_ranks
        from ..bundled import find_problem_file
        from ..network import ReLUNetwork

        args.net = find_problem_file(args.net, suffixes=(".npz",))  # a bare name may be a bundled network
        net = ReLUNetwork.load(args.net)
        n0, widths, ranks = net.n_in, list(net.hidden_widths), list(matrix_ranks(net))
        box = tuple(args.box) if args.box is not None else None
        # Progress: a line when the L enumerations start, a live line during each, a permanent line
        # when each layer's count ends, and the final figures.
        progress = Progress(args.progress)
        n_layers = net.n_hidden_layers
        progress.update(f"  exact counts of the {n_layers} prefix networks of {args.net.name} ...")

        def callback(state: Any) -> None:
            if state.layer_done:
                how = "" if state.complete else " (incomplete)"
                progress.close(
                    f"  layer {state.layer}/{n_layers} done: {state.regions} regions{how}, {state.seconds:.1f} s"
                )
                return
            rate = state.regions / state.seconds if state.seconds > 0 else 0.0
            progress.update(
                f"  layer {state.layer}/{n_layers}: {state.regions:,} regions so far, {rate:,.0f} regions/s, "
                f"{state.seconds:.1f} s"
            )

        emp = layer_histograms(net, box=box, callback=callback)
        progress.close(
            f"  exact counts per layer {[h.count for h in emp.layers]} ({emp.domain}): "
            + ("all bounds hold" if emp.all_checks_pass else "a bound is VIOLATED")
        )
    else:
        if args.n0 is None:
            raise InvalidNetworkError("--n0 N is required with --widths.")
        if args.box is not None:
            raise InvalidNetworkError("--box applies to the exact count of --net FILE; there is no network here.")
        n0, widths, ranks = args.n0, args.widths, args.ranks
    table = all_bounds(n0, widths, ranks=ranks)
    result: dict[str, Any] = table.to_dict()
    code, error = EXIT_OK, None
    if emp is not None:
        result["empirical"] = emp.to_dict()
        # A violated upper bound or framework domination contradicts a theorem: a failure, not an answer.
        if not emp.all_checks_pass:
            code, error = EXIT_FAILURE, "an upper bound or a framework domination is violated by the exact count"
        elif not all(h.complete for h in emp.layers):
            code = EXIT_INCOMPLETE
    return Outcome(result, code, lambda: _text(table, emp), error=error)


def _text(table: Any, emp: Any) -> str:
    lines = [f"Region-count bounds for n0 = {table.n0}, widths = {_widths_text(table.widths)}"]
    if emp is not None:
        lines.append(f"exact count ({emp.domain}): {emp.count}")
    lines.append(f"{'bound':<26}{'kind':<13}{'value':>32}  {'bound/exact' if emp else 'note'}")
    for e in table.entries:
        if emp is not None and e.kind in ("upper", "exact") and e.value is not None and emp.count:
            extra = f"{e.value / emp.count:.4g}"
        else:
            extra = e.note
        lines.append(f"{e.name:<26}{e.kind:<13}{_fmt(e.value):>32}  {extra}")
    if emp is not None:
        lines.append(
            "\nper layer (first l hidden layers): exact count, histograms by image dimension / rank bound, "
            "and the framework vectors (gamma serra2018 | activation_counts)"
        )
        for h in emp.layers:
            fw = " | ".join(str(list(v)) for v in h.framework.values())
            ok = "ok" if h.upper_bounds_hold and all(h.framework_dominates.values()) else "VIOLATED"
            lines.append(
                f"  l={h.layer}: count {h.count}, dim {list(h.dimension_histogram)}, "
                f"rank-bound {list(h.rank_bound_histogram)}, framework {fw}  [{ok}]"
            )
    return "\n".join(lines) + "\n"
