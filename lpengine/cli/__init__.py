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
from .common import (
    EXIT_FAILURE,
    EXIT_INCOMPLETE,
    EXIT_USAGE,
    CtrlC,
    Outcome,
    UsageError,
    emit_json,
    envelope,
    make_parser,
    silence_stdout,
)

__all__ = ["main", "build_parser", "emit_json", "CtrlC", "Outcome", "COMMAND_MODULES"]

#: Modules that contribute one subcommand each (``register(subparsers)``), in ``--help`` order.
COMMAND_MODULES: tuple[str, ...] = (
    "lpengine.cli.count",
    "lpengine.cli.crosscheck",
    "lpengine.cli.bounds",
    "lpengine.cli.analyze",
    "lpengine.cli.mistakes",
    "lpengine.cli.solve",
    "lpengine.cli.lad",
    "lpengine.cli.train",
)


def build_parser() -> argparse.ArgumentParser:
    """The ``lpengine`` parser with every subcommand of :data:`COMMAND_MODULES`."""
    parser = make_parser(
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
    """Entry point of the ``lpengine`` console script; returns the exit code (see :mod:`lpengine.cli.common`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        return _fail(_command_of(argv), EXIT_USAGE, exc, as_json="--json" in argv, usage=True)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    as_json = bool(getattr(args, "json", False))
    try:
        outcome: Outcome = args.func(args)
        if as_json:
            emit_json(envelope(args.command, outcome.exit_code, outcome.result, outcome.error))
        else:
            sys.stdout.write(outcome.text())
            sys.stdout.flush()
        return outcome.exit_code
    except BrokenPipeError:
        # The reader went away (``lpengine count ... | head -3``): nothing left to say to anyone.
        silence_stdout()
        return EXIT_FAILURE
    except UsageError as exc:
        return _fail(args.command, EXIT_USAGE, exc, as_json=as_json)
    except (LPEngineError, ValueError, OSError) as exc:
        return _fail(args.command, EXIT_FAILURE, exc, as_json=as_json)
    except KeyboardInterrupt as exc:
        # A second Ctrl-C (the first one asks a long run to stop and report its partial result).
        return _fail(args.command, EXIT_INCOMPLETE, exc, as_json=as_json, text="interrupted")


def _fail(
    command: str | None, code: int, exc: BaseException, *, as_json: bool, usage: bool = False, text: str = ""
) -> int:
    """Report ``exc`` on stderr (and as the JSON envelope with ``--json``); return ``code``."""
    message = text or str(exc)
    if usage:
        sys.stderr.write(message + "\n")
        message = message.rsplit(": error: ", 1)[-1]
    else:
        sys.stderr.write(f"lpengine {command}: error: {message}\n")
    if as_json:
        try:
            emit_json(envelope(command, code, None, type(exc)(message) if usage or text else exc))
        except BrokenPipeError:
            silence_stdout()
    return code


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand of a command line that failed to parse: its first word (global flags take no value)."""
    return next((a for a in argv if not a.startswith("-")), None)
