"""``lpengine crosscheck``: compare ``enumerate_regions`` with the independent oracles on one network.

The oracles are :func:`~lpengine.regions.brute.brute_force_regions` (one
Chebyshev LP per sign vector, ``N <= --max-units``) and, for one-input
networks on an interval or the whole line, the exact rational breakpoint scan
:func:`~lpengine.regions.scan1d.scan_line`.  Exit code 0 when every count and
pattern set agrees, 1 on a disagreement (or on bad input).
"""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..network import ReLUNetwork
from .common import EXIT_FAILURE, EXIT_OK, Outcome, Progress, add_command, add_progress_flag
from .count import add_domain_flags, domain_kwargs, network_info

__all__ = ["register", "run", "format_pattern", "CrosscheckReport", "OracleCheck"]

#: How many disagreeing patterns are listed in the output.
MAX_LISTED = 10


def register(sub: Any) -> None:
    """Add the ``crosscheck`` subcommand."""
    p = add_command(
        sub,
        "crosscheck",
        help="check the exact region count against brute force (and the 1-D exact scan)",
        description="Count the activation regions of a small network three ways: enumerate_regions, brute force "
        "over all 2^N sign vectors (one Chebyshev LP each), and for n_in = 1 an exact rational breakpoint scan. "
        "Exit code 0 iff all agree, 1 on a disagreement. Default domain: the box [-1, 1]^n_in.",
    )
    p.add_argument(
        "--net",
        required=True,
        type=Path,
        help="network file (.npz: W0, b0, ..., has_output_layer), or the name of a bundled network (regions_default)",
    )
    add_domain_flags(p)
    p.add_argument(
        "--max-units",
        type=int,
        default=None,
        metavar="N",
        help="allow brute force on networks with up to N hidden units (default 16; 2^N LPs at most)",
    )
    p.add_argument("--backend", choices=["highs", "scipy"], default="highs", help="LP backend of the brute force")
    add_progress_flag(p)
    p.set_defaults(func=run)


@dataclass(frozen=True)
class OracleCheck:
    """The enumeration's pattern set against one oracle's."""

    oracle: str
    n_missing: int
    n_extra: int
    missing_in_enumeration: tuple[str, ...]
    extra_in_enumeration: tuple[str, ...]

    @property
    def agree(self) -> bool:
        """Same pattern set (hence the same count)."""
        return self.n_missing == 0 and self.n_extra == 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the first :data:`MAX_LISTED` disagreeing patterns each way)."""
        return {
            "oracle": self.oracle,
            "agree": self.agree,
            "n_missing": self.n_missing,
            "n_extra": self.n_extra,
            "missing_in_enumeration": list(self.missing_in_enumeration),
            "extra_in_enumeration": list(self.extra_in_enumeration),
        }


@dataclass(frozen=True)
class CrosscheckReport:
    """``enumerate_regions`` against the oracles on one network and domain."""

    counts: dict[str, int]
    checks: tuple[OracleCheck, ...]
    enumerate_complete: bool
    enumerate_lp_solves: int
    enumerate_seconds: float
    brute_force_lp_solves: int
    brute_force_seconds: float
    domain: str
    network: dict[str, Any]

    @property
    def agree(self) -> bool:
        """Every oracle agrees and the enumeration finished."""
        return self.enumerate_complete and all(c.agree for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "agree": self.agree,
            "counts": dict(self.counts),
            "checks": [c.to_dict() for c in self.checks],
            "enumerate_complete": self.enumerate_complete,
            "enumerate_lp_solves": self.enumerate_lp_solves,
            "enumerate_seconds": self.enumerate_seconds,
            "brute_force_lp_solves": self.brute_force_lp_solves,
            "brute_force_seconds": self.brute_force_seconds,
            "domain": self.domain,
            "network": self.network,
        }


def format_pattern(signs: Any, widths: tuple[int, ...]) -> str:
    """``+``/``-`` per unit, layers separated by ``|`` (e.g. ``+-+|--``)."""
    chars = ["+" if int(s) > 0 else "-" for s in signs]
    out, k = [], 0
    for w in widths:
        out.append("".join(chars[k : k + w]))
        k += w
    return "|".join(out)


def _compare(name: str, got: set[tuple[int, ...]], ref: set[tuple[int, ...]], widths: tuple[int, ...]) -> OracleCheck:
    missing = sorted(ref - got)
    extra = sorted(got - ref)
    return OracleCheck(
        oracle=name,
        n_missing=len(missing),
        n_extra=len(extra),
        missing_in_enumeration=tuple(format_pattern(p, widths) for p in missing[:MAX_LISTED]),
        extra_in_enumeration=tuple(format_pattern(p, widths) for p in extra[:MAX_LISTED]),
    )


def run(args: argparse.Namespace) -> Outcome:
    """Entry point of ``lpengine crosscheck``."""
    from ..bundled import find_problem_file
    from ..exceptions import InvalidOptionError
    from ..regions.brute import DEFAULT_MAX_UNITS, brute_force_regions
    from ..regions.enumerate import enumerate_regions
    from ..regions.scan1d import scan_line

    args.net = find_problem_file(args.net, suffixes=(".npz",))  # a bare name may be a bundled network
    net = ReLUNetwork.load(args.net)
    kw = domain_kwargs(args)
    interval: tuple[float, float] | None = None
    if "whole_space" in kw:
        interval = (-np.inf, np.inf)
    elif "box" in kw:
        interval = (float(kw["box"][0]), float(kw["box"][1]))
    widths = net.hidden_widths
    max_units = args.max_units if args.max_units is not None else DEFAULT_MAX_UNITS
    if net.n_hidden > max_units:
        # Said here in the command line's words (the library's message names its keyword argument).
        raise InvalidOptionError(
            f"{args.net}: the network has {net.n_hidden} hidden units; brute force would solve up to "
            f"2^{net.n_hidden} = {2**net.n_hidden:,d} LPs, more than the limit of {max_units} units. "
            f"Add --max-units {net.n_hidden} to run it anyway."
        )

    progress = Progress(args.progress)
    # Brute force first: it refuses too-large networks before any long enumeration starts.  It has no
    # callback, so its progress is one line when it starts.
    progress.update(
        f"  brute force over the 2^{net.n_hidden} = {2**net.n_hidden:,d} sign vectors (pruned by prefix) ..."
    )
    brute = brute_force_regions(net, backend=args.backend, max_units=max_units, **kw)

    def callback(state: Any) -> bool:
        return progress.update(
            f"  enumerate_regions: regions {state.regions:>9,d}   frontier {state.queued:>8,d}   "
            f"LPs {state.lp_solves:>9,d}   {state.seconds:7.1f} s   (brute force: {brute.count:,d} regions)"
        )

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enum = enumerate_regions(net, callback=callback, **kw)
    enum_seconds = time.perf_counter() - t0
    got = {tuple(int(s) for s in r.pattern.signs) for r in enum.regions}
    checks = [_compare("brute_force", got, set(brute.patterns), widths)]
    counts: dict[str, int] = {"enumerate_regions": enum.count, "brute_force": brute.count}
    if net.n_in == 1 and interval is not None:
        scan = scan_line(net, [0.0], [1.0], interval[0], interval[1])
        counts["scan1d"] = scan.count
        checks.append(_compare("scan1d", got, set(scan.patterns), widths))
    report = CrosscheckReport(
        counts=counts,
        checks=tuple(checks),
        enumerate_complete=enum.complete,
        enumerate_lp_solves=enum.lp_solves,
        enumerate_seconds=enum_seconds,
        brute_force_lp_solves=brute.lp_solves,
        brute_force_seconds=brute.seconds,
        domain=brute.domain,
        network=network_info(net, args.net),
    )
    progress.close(
        "  "
        + ", ".join(f"{k} {v:,d}" for k, v in counts.items())
        + f" regions: {'all agree' if report.agree else 'MISMATCH'}"
    )
    if report.agree:
        return Outcome(report.to_dict(), EXIT_OK, lambda: _text(args, net, report))
    failed = [k.oracle for k in report.checks if not k.agree] or ["the enumeration did not finish"]
    msg = f"enumerate_regions disagrees with {', '.join(failed)}"
    return Outcome(report.to_dict(), EXIT_FAILURE, lambda: _text(args, net, report), error=msg)


def _text(args: argparse.Namespace, net: ReLUNetwork, r: CrosscheckReport) -> str:
    c = r.counts
    lines = [
        f"network   {net!r}  ({args.net})",
        f"domain    {r.domain}",
        f"enumerate_regions  {c['enumerate_regions']:>8,d} regions  {r.enumerate_lp_solves:>8,d} LPs  "
        f"{r.enumerate_seconds:.3f} s{'' if r.enumerate_complete else '  (INCOMPLETE)'}",
        f"brute force        {c['brute_force']:>8,d} regions  {r.brute_force_lp_solves:>8,d} LPs  "
        f"{r.brute_force_seconds:.3f} s",
    ]
    if "scan1d" in c:
        lines.append(f"exact 1-D scan     {c['scan1d']:>8,d} regions")
    for k in r.checks:
        if k.agree:
            lines.append(f"{k.oracle:<18} agrees (same count, same patterns)")
        else:
            lines.append(
                f"{k.oracle:<18} DISAGREES: {k.n_missing} pattern(s) missing from the enumeration "
                f"{list(k.missing_in_enumeration)}, {k.n_extra} extra {list(k.extra_in_enumeration)}"
            )
    lines.append("result    " + ("all counts agree" if r.agree else "MISMATCH"))
    return "\n".join(lines) + "\n"
