"""The ``lpengine`` command line: a thin argparse front-end over the library.

Each subcommand lives in the module that owns its job and exposes
``register(subparsers)``; it adds one parser whose ``func(args) -> int``
calls one library function and prints a summary, or with ``--json`` exactly
one JSON object on stdout.  Logs go to stderr (``-v`` INFO, ``-vv`` DEBUG).
Exit codes: 0 success, 1 failure (bad input, solver trouble), 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from . import __version__
from .exceptions import LPEngineError

__all__ = ["main", "build_parser", "emit_json", "CtrlC", "COMMAND_MODULES"]

#: Modules that contribute one subcommand each (``register(subparsers)``).
COMMAND_MODULES: tuple[str, ...] = (
    "lpengine.regions._cli",
    "lpengine.regions._crosscheck_cli",
    "lpengine.bounds._cli",
    "lpengine.analysis._cli",
    "lpengine.sequential._cli",
    "lpengine.simplex._cli",
)


class CtrlC:
    """Ctrl-C as a clean stop request for a long run (a context manager).

    Inside the ``with`` block the first Ctrl-C only sets :attr:`pressed`; the
    run polls it (through its ``callback``) and returns its partial result,
    which the command then reports.  A second Ctrl-C raises
    ``KeyboardInterrupt`` at once.  Outside the main thread it does nothing.
    """

    message = "interrupted (Ctrl-C)"

    def __init__(self) -> None:
        self.pressed = False
        self._previous: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        self.pressed = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def __enter__(self) -> CtrlC:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def emit_json(obj: Any) -> None:
    """Print exactly one JSON object on stdout (sorted keys, no NaN)."""
    sys.stdout.write(json.dumps(obj, sort_keys=True, allow_nan=False, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"cannot serialise {type(o).__name__} to JSON")


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
        return 2
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except (LPEngineError, ValueError, OSError) as exc:
        sys.stderr.write(f"lpengine {args.command}: error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write(f"lpengine {args.command}: interrupted\n")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
