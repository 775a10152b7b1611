"""The ``lpengine`` command line: a thin argparse front-end over the library.

One module per subcommand in this package (``count``, ``crosscheck``, ``bounds``, ``analyze``,
``mistakes``, ``solve``, ``lad``), each exposing ``register(subparsers)``; what they share (JSON output,
exit codes, Ctrl-C) lives in :mod:`lpengine.cli.common`, whose docstring says how a subcommand is written.
The library never imports from this package.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from .. import __version__
from ..exceptions import LPEngineError
from .common import EXIT_FAILURE, EXIT_USAGE, CtrlC, emit_json

__all__ = ["main", "build_parser", "emit_json", "CtrlC", "COMMAND_MODULES"]

#: Modules that contribute one subcommand each (``register(subparsers)``), in ``--help`` order.
COMMAND_MODULES: tuple[str, ...] = (
    "lpengine.cli.count",
    "lpengine.cli.crosscheck",
    "lpengine.cli.bounds",
    "lpengine.cli.analyze",
    "lpengine.cli.mistakes",
    "lpengine.cli.solve",
    "lpengine.cli.lad",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lpengine",
        description="Exact LP-based analysis of ReLU networks (regions, bounds, Deep ReLU Simplex).",
    )
    parser.add_argument("--version", action="version", version=f"lpengine {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log to stderr (-v INFO, -vv DEBUG)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lpengine`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except (LPEngineError, ValueError, OSError) as exc:
        sys.stderr.write(f"lpengine {args.command}: error: {exc}\n")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        sys.stderr.write(f"lpengine {args.command}: interrupted\n")
        return EXIT_FAILURE
