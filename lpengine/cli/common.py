"""What every ``lpengine`` subcommand shares: JSON output, Ctrl-C, exit codes.

How a subcommand is written
---------------------------
One module per subcommand in :mod:`lpengine.cli` (``count.py``, ``solve.py``, ...), listed in
:data:`lpengine.cli.COMMAND_MODULES`.  The module defines two functions::

    def register(sub) -> None:
        p = sub.add_parser("name", help="one line for `lpengine --help`", description="...")
        p.add_argument(...)                       # the command's own flags
        p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
        p.set_defaults(func=run)

    def run(args: argparse.Namespace) -> int:
        result = library_function(...)            # exactly one library call does the work
        if args.json:
            emit_json(result.to_dict())
        else:
            sys.stdout.write(...)                 # a short human summary
        return EXIT_OK

Rules: the library never imports from :mod:`lpengine.cli`; a command imports heavy library modules
inside ``run`` so that ``lpengine --help`` stays fast; logs go to stderr through :mod:`logging`
(``-v`` INFO, ``-vv`` DEBUG, configured once in :func:`lpengine.cli.main`); bad input raises an
:class:`~lpengine.exceptions.LPEngineError` (or ``ValueError``/``OSError``) that :func:`lpengine.cli.main`
turns into one ``error:`` line on stderr and the failure exit code.  A long run wraps its library call in
:class:`CtrlC` and polls ``ctrl_c.pressed`` from its ``callback`` so that Ctrl-C returns the partial result.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from typing import Any

__all__ = ["CtrlC", "emit_json", "EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE"]

#: The run finished and its answer is complete.
EXIT_OK = 0
#: The run failed (bad input, solver trouble) or stopped early.
EXIT_FAILURE = 1
#: The command line itself is wrong (argparse's own code).
EXIT_USAGE = 2


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
