"""What every ``lpengine`` subcommand shares: exit codes, the JSON envelope, progress, Ctrl-C.

Exit codes (one table for every subcommand, also printed by ``lpengine --help``)
--------------------------------------------------------------------------------
==  ==============  ============================================================================
0   ``ok``          finished; the answer is complete (counted all regions, certified, all agree)
1   ``failed``      bad input, unreadable file, solver trouble, an oracle disagreement, closed pipe
2   ``usage``       the command line itself is wrong (unknown flag, missing argument)
3   ``incomplete``  stopped early or not certified: a budget, Ctrl-C, an uncertified end point;
                    the partial answer is still printed (a count is then a lower bound)
==  ==============  ============================================================================

The JSON envelope (``--json``)
------------------------------
Every subcommand given ``--json`` prints exactly one JSON object on stdout, also when it fails::

    {"command": "count", "version": "0.1.0", "status": "ok", "exit_code": 0,
     "result": {...}, "error": null}

``status`` is the word of the exit-code table; ``result`` is the command's answer (``null`` when there
is none); ``error`` is ``null`` or ``{"type": "InvalidNetworkError", "message": "..."}``.  Values keep
their JSON types (numbers, booleans, lists, objects), with two rules, applied by :func:`to_jsonable`:

* **big integers**: an integer whose absolute value exceeds ``2**53 - 1`` (the largest integer a double,
  hence JavaScript and jq, holds exactly) is written as a decimal string, e.g. a 180-digit bound
  ``"1606938044258990275541962092341162602522202993782792835301376"``; smaller integers are numbers.
  Read every integer field with ``int(v)`` (Python) or ``BigInt(v)`` (JavaScript) and both forms work.
* **non-finite floats** (``inf``, ``nan``), which JSON cannot hold, are written as ``null``.

How a subcommand is written
---------------------------
One module per subcommand in :mod:`lpengine.cli` (``count.py``, ``solve.py``, ...), listed in
:data:`lpengine.cli.COMMAND_MODULES`.  The module defines ``register`` and ``run``::

    from .common import EXIT_INCOMPLETE, EXIT_OK, CtrlC, Outcome, Progress, add_command, add_progress_flag

    def register(sub) -> None:
        p = add_command(sub, "name", help="one line for `lpengine --help`", description="...")
        p.add_argument(...)                 # the command's own flags (--json is already there)
        add_progress_flag(p)                # long commands only
        p.set_defaults(func=run)

    def run(args: argparse.Namespace) -> Outcome:
        progress = Progress(args.progress)
        with CtrlC() as ctrl_c:             # long commands: Ctrl-C returns the partial result
            res = library_function(..., callback=lambda s: progress.update(f"...{s.k}...") or ctrl_c.pressed)
        progress.close(f"... final figures of res ...")
        code = EXIT_OK if res.complete else EXIT_INCOMPLETE
        return Outcome(res.to_dict(), code, text=lambda: f"human summary of {res}\\n")

:func:`lpengine.cli.main` does the rest: ``--json`` prints the envelope around ``Outcome.result``,
otherwise ``Outcome.text`` goes to stdout; an :class:`~lpengine.exceptions.LPEngineError` (or
``ValueError``/``OSError``) raised by ``run`` becomes one ``error:`` line on stderr (or the envelope's
``error``) and exit 1; :class:`UsageError` raised by ``run`` (flags that do not fit together) gives exit 2;
a run that finished but whose check failed returns ``Outcome(..., EXIT_FAILURE, ..., error="what failed")``;
a closed stdout pipe ends the command quietly.  Rules: the library never imports
from :mod:`lpengine.cli`; ``run`` does the work with one library call and imports heavy modules inside
``run`` so that ``lpengine --help`` stays fast; the result is serialised by the result object's own
``to_dict()``, never assembled field by field here; logs go to stderr through :mod:`logging`
(``-v`` INFO, ``-vv`` DEBUG, configured once by ``main``).
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from fractions import Fraction
from pathlib import PurePath
from typing import Any, TextIO

__all__ = [
    "EXIT_OK",
    "EXIT_FAILURE",
    "EXIT_USAGE",
    "EXIT_INCOMPLETE",
    "STATUS",
    "EXIT_CODE_TABLE",
    "MAX_EXACT_JSON_INT",
    "CtrlC",
    "Outcome",
    "Progress",
    "UsageError",
    "add_command",
    "add_progress_flag",
    "envelope",
    "emit_json",
    "to_jsonable",
]

#: Finished; the answer is complete.
EXIT_OK = 0
#: Bad input, unreadable file, solver trouble, an oracle disagreement.
EXIT_FAILURE = 1
#: The command line itself is wrong (argparse's own code).
EXIT_USAGE = 2
#: Stopped early (budget, Ctrl-C) or not certified; the partial answer is reported.
EXIT_INCOMPLETE = 3

#: The envelope's ``status`` word for each exit code.
STATUS: Mapping[int, str] = {
    EXIT_OK: "ok",
    EXIT_FAILURE: "failed",
    EXIT_USAGE: "usage",
    EXIT_INCOMPLETE: "incomplete",
}

#: The exit-code table as printed at the end of ``lpengine --help`` and of every subcommand's help.
EXIT_CODE_TABLE = """\
exit codes (every command):
  0  ok          finished; the answer is complete
  1  failed      bad input, unreadable file, solver trouble, oracle disagreement
  2  usage       the command line is wrong
  3  incomplete  stopped early (budget, Ctrl-C) or not certified; partial answer printed

--json prints one object: {"command", "version", "status", "exit_code", "result", "error"};
integers beyond 2**53 - 1 are decimal strings, inf/nan are null."""

#: Largest integer that a JSON reader using doubles (JavaScript, jq) holds exactly.
MAX_EXACT_JSON_INT = 2**53 - 1


class UsageError(Exception):
    """The command line is wrong (raised by the parser instead of exiting)."""


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors return to :func:`lpengine.cli.main` (which prints them)."""

    def error(self, message: str) -> Any:  # argparse's signature is NoReturn
        raise UsageError(f"{self.format_usage()}{self.prog}: error: {message}")


def make_parser(**kwargs: Any) -> argparse.ArgumentParser:
    """The top-level parser (errors raise :class:`UsageError`; subparsers inherit the class)."""
    return _Parser(formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXIT_CODE_TABLE, **kwargs)


def add_command(sub: Any, name: str, *, help: str, description: str) -> argparse.ArgumentParser:
    """Add subcommand ``name`` with the shared ``--json`` flag and the exit-code table in its help."""
    p = sub.add_parser(
        name,
        help=help,
        description=description,
        epilog=EXIT_CODE_TABLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--json", action="store_true", help="print one JSON envelope on stdout (also on errors; see lpengine --help)"
    )
    return p


def add_progress_flag(p: argparse.ArgumentParser) -> None:
    """The one progress flag of a long command: ``--progress`` / ``--no-progress`` (default: stderr is a terminal)."""
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="live progress on stderr (default: on when stderr is a terminal, off when piped or redirected)",
    )


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a subcommand's ``run`` returns to :func:`lpengine.cli.main`.

    Attributes
    ----------
    result : object
        JSON-ready data (built by the result's ``to_dict()``): the envelope's ``result``.
    exit_code : int
        One of :data:`EXIT_OK`, :data:`EXIT_INCOMPLETE`, :data:`EXIT_FAILURE`.
    text : callable
        Returns the human summary printed on stdout without ``--json``.
    error : str, optional
        With :data:`EXIT_FAILURE` for a run that finished but whose check failed (an oracle disagrees, a
        theorem is violated): the envelope's ``error`` message, of type ``"CheckFailed"``.
    """

    result: Any
    exit_code: int
    text: Callable[[], str]
    error: str | None = None


def to_jsonable(obj: Any) -> Any:
    """``obj`` with the envelope's rules applied (see the module docstring).

    Objects with ``to_dict()`` are serialised by it; numpy scalars and arrays become Python numbers
    and lists; tuples become lists; paths and enums become strings; fractions become floats.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return str(obj) if abs(obj) > MAX_EXACT_JSON_INT else obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if hasattr(obj, "to_dict"):
        return to_jsonable(obj.to_dict())
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, enum.Enum):
        return to_jsonable(obj.value)
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, Fraction):
        return float(obj)
    import numpy as np

    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return to_jsonable(int(obj))
    if isinstance(obj, np.floating):
        return to_jsonable(float(obj))
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")


def envelope(
    command: str | None, exit_code: int, result: Any = None, error: BaseException | str | None = None
) -> dict[str, Any]:
    """The JSON envelope (see the module docstring); a string ``error`` is a failed check (``"CheckFailed"``)."""
    from .. import __version__

    if isinstance(error, str):
        err: dict[str, str] | None = {"type": "CheckFailed", "message": error}
    else:
        err = None if error is None else {"type": type(error).__name__, "message": str(error)}
    return {
        "command": command,
        "version": __version__,
        "status": STATUS[exit_code],
        "exit_code": exit_code,
        "result": to_jsonable(result),
        "error": err,
    }


def emit_json(obj: Any) -> None:
    """Print exactly one JSON object on stdout (sorted keys; the envelope's rules)."""
    sys.stdout.write(json.dumps(to_jsonable(obj), sort_keys=True, allow_nan=False) + "\n")
    sys.stdout.flush()


class Progress:
    """One live progress line on stderr for a long command.

    On a terminal the line is rewritten in place (``\\r``, at most every ``interval`` s).  When enabled
    on a non-terminal (``--progress`` into a log file) it writes whole lines, one every
    ``file_interval`` s, and never a ``\\r``.  :meth:`close` writes the final line with the final
    figures (given by the command, from the result), so the last thing shown is never a stale tick.

    Parameters
    ----------
    enabled : bool or None
        The ``--progress`` flag; ``None`` means "when ``stream`` is a terminal".
    stream : file, optional
        Default ``sys.stderr``.
    """

    interval = 0.1
    file_interval = 5.0

    def __init__(self, enabled: bool | None, *, stream: TextIO | None = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.tty = _isatty(self.stream)
        self.enabled = self.tty if enabled is None else bool(enabled)
        self._last = -math.inf
        self._width = 0

    def update(self, text: str) -> bool:
        """Show ``text`` (throttled); returns False, so a ``callback`` can end in ``or ctrl_c.pressed``."""
        if not self.enabled:
            return False
        now = time.monotonic()
        if now - self._last < (self.interval if self.tty else self.file_interval):
            return False
        self._last = now
        self._write(text, final=False)
        return False

    def close(self, text: str | None = None) -> None:
        """End the progress display with ``text`` (the final figures), or just end the line."""
        if not self.enabled:
            return
        if text is not None:
            self._write(text, final=True)
        elif self.tty and self._width:
            self._safe("\n")
        self._width = 0

    def _write(self, text: str, *, final: bool) -> None:
        if self.tty:
            pad = " " * max(self._width - len(text), 0)
            self._width = 0 if final else len(text)
            self._safe("\r" + text + pad + ("\n" if final else ""))
        else:
            self._safe(text + "\n")

    def _safe(self, s: str) -> None:
        try:
            self.stream.write(s)
            self.stream.flush()
        except (BrokenPipeError, ValueError):  # stderr closed: progress is best effort
            self.enabled = False


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class CtrlC:
    """Ctrl-C and SIGTERM as a clean stop request for a long run (a context manager).

    Inside the ``with`` block the first Ctrl-C (or SIGTERM, as sent by ``kill``,
    a batch scheduler or a container runtime) only sets :attr:`pressed`; the
    run polls it (through its ``callback``) and returns its partial result,
    which the command then reports (exit 3, incomplete), and a checkpoint, if
    one is being written, gets the final state.  A second Ctrl-C raises
    ``KeyboardInterrupt`` at once; a second SIGTERM ends the process.  Outside
    the main thread it does nothing.
    """

    message = "interrupted (Ctrl-C)"

    def __init__(self) -> None:
        self.pressed = False
        self.reason = self.message
        self._previous: dict[int, Any] = {}

    def _handler(self, signum: int, frame: Any) -> None:
        self.pressed = True
        if signum == signal.SIGTERM:
            self.reason = "terminated (SIGTERM)"
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        else:
            signal.signal(signal.SIGINT, signal.default_int_handler)

    def __enter__(self) -> CtrlC:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous = {}


def silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (e.g. captured by pytest)
        pass
