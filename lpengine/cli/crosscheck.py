"""``lpengine crosscheck``: compare ``enumerate_regions`` with the independent oracles on one network.

The oracles are :func:`~lpengine.regions.brute.brute_force_regions` (one
Chebyshev LP per sign vector, ``N <= --max-units``) and, for one-input
networks on an interval or the whole line, the exact rational breakpoint scan
:func:`~lpengine.regions.scan1d.scan_line`.  Exit code 0 when every count and
pattern set agrees, 1 otherwise (or on bad input).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..network import ReLUNetwork

__all__ = ["register", "run", "format_pattern"]

#: How many disagreeing patterns are listed in the output.
MAX_LISTED = 10


def register(sub: Any) -> None:
    p = sub.add_parser(
        "crosscheck",
        help="check the exact region count against brute force (and the 1-D exact scan)",
        description="Count the activation regions of a small network three ways: enumerate_regions, brute force "
        "over all 2^N sign vectors (one Chebyshev LP each), and for n_in = 1 an exact rational breakpoint scan. "
        "Exit code 0 iff all agree. Default domain: the box [-1, 1]^n_in.",
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
        "--max-units", type=int, default=None, help="allow brute force on more than 16 hidden units (2^N LPs at most)"
    )
    p.add_argument("--backend", choices=["highs", "scipy"], default="highs", help="LP backend of the brute force")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=run)


def format_pattern(signs: Any, widths: tuple[int, ...]) -> str:
    """``+``/``-`` per unit, layers separated by ``|`` (e.g. ``+-+|--``)."""
    chars = ["+" if int(s) > 0 else "-" for s in signs]
    out, k = [], 0
    for w in widths:
        out.append("".join(chars[k : k + w]))
        k += w
    return "|".join(out)


def _compare(
    name: str, got: set[tuple[int, ...]], ref: set[tuple[int, ...]], widths: tuple[int, ...]
) -> dict[str, Any]:
    missing = sorted(ref - got)
    extra = sorted(got - ref)
    return {
        "oracle": name,
        "agree": not missing and not extra,
        "missing_in_enumeration": [format_pattern(p, widths) for p in missing[:MAX_LISTED]],
        "extra_in_enumeration": [format_pattern(p, widths) for p in extra[:MAX_LISTED]],
        "n_missing": len(missing),
        "n_extra": len(extra),
    }


def run(args: argparse.Namespace) -> int:
    from ..regions.brute import DEFAULT_MAX_UNITS, brute_force_regions
    from ..regions.enumerate import enumerate_regions
    from ..regions.scan1d import scan_line
    from .count import load_polytope

    net = ReLUNetwork.load(args.net)
    kw: dict[str, Any] = {}
    interval: tuple[float, float] | None = None
    if args.whole_space:
        kw["whole_space"] = True
        interval = (-np.inf, np.inf)
    elif args.polytope is not None:
        kw["polytope"] = load_polytope(args.polytope)
    else:
        lo, hi = tuple(args.box) if args.box else (-1.0, 1.0)
        kw["box"] = (lo, hi)
        interval = (lo, hi)
    widths = net.hidden_widths
    max_units = args.max_units if args.max_units is not None else DEFAULT_MAX_UNITS

    # Brute force first: it refuses too-large networks before any long enumeration starts.
    brute = brute_force_regions(net, backend=args.backend, max_units=max_units, **kw)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enum = enumerate_regions(net, **kw)
    enum_seconds = time.perf_counter() - t0
    got = {tuple(int(s) for s in r.pattern.signs) for r in enum.regions}
    checks = [_compare("brute_force", got, set(brute.patterns), widths)]
    counts: dict[str, Any] = {"enumerate_regions": enum.count, "brute_force": brute.count}
    if net.n_in == 1 and interval is not None:
        scan = scan_line(net, [0.0], [1.0], interval[0], interval[1])
        counts["scan1d"] = scan.count
        checks.append(_compare("scan1d", got, set(scan.patterns), widths))
    agree = all(c["agree"] for c in checks) and enum.complete
    summary = {
        "agree": agree,
        "counts": counts,
        "checks": checks,
        "enumerate_complete": enum.complete,
        "enumerate_lp_solves": enum.lp_solves,
        "enumerate_seconds": enum_seconds,
        "brute_force_lp_solves": brute.lp_solves,
        "brute_force_seconds": brute.seconds,
        "domain": brute.domain,
        "network": {"n_in": net.n_in, "hidden_widths": list(widths), "file": str(args.net)},
    }
    if args.json:
        from .common import emit_json

        emit_json(summary)
    else:
        out = sys.stdout
        out.write(f"network   {net!r}  ({args.net})\n")
        out.write(f"domain    {brute.domain}\n")
        out.write(
            f"enumerate_regions  {enum.count:>8,d} regions  {enum.lp_solves:>8,d} LPs  {enum_seconds:.3f} s"
            f"{'' if enum.complete else '  (INCOMPLETE)'}\n"
        )
        out.write(f"brute force        {brute.count:>8,d} regions  {brute.lp_solves:>8,d} LPs  {brute.seconds:.3f} s\n")
        if "scan1d" in counts:
            out.write(f"exact 1-D scan     {counts['scan1d']:>8,d} regions\n")
        for c in checks:
            if c["agree"]:
                out.write(f"{c['oracle']:<18} agrees (same count, same patterns)\n")
            else:
                out.write(
                    f"{c['oracle']:<18} DISAGREES: {c['n_missing']} pattern(s) missing from the enumeration "
                    f"{c['missing_in_enumeration']}, {c['n_extra']} extra {c['extra_in_enumeration']}\n"
                )
        out.write("result    " + ("all counts agree\n" if agree else "MISMATCH\n"))
    return 0 if agree else 1
