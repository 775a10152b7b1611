"""Check the JSON envelope of ``lpengine ... --json`` and return its ``result``."""

from __future__ import annotations

import json
from typing import Any

import lpengine

#: The exit-code table, written out independently of lpengine.cli.common.
STATUS_OF_EXIT = {0: "ok", 1: "failed", 2: "usage", 3: "incomplete"}


def envelope(text: str, command: str | None = None) -> dict[str, Any]:
    """Parse stdout: exactly one JSON line with the envelope's keys and consistent status."""
    assert text.count("\n") == 1 and text.endswith("\n"), f"expected one JSON line, got {text[:300]!r}"
    obj = json.loads(text)
    assert set(obj) == {"command", "version", "status", "exit_code", "result", "error"}
    assert obj["version"] == lpengine.__version__
    assert obj["status"] == STATUS_OF_EXIT[obj["exit_code"]]
    assert (obj["error"] is None) == (obj["status"] in ("ok", "incomplete"))
    if command is not None:
        assert obj["command"] == command
    return obj


def unwrap(text: str, command: str | None = None) -> Any:
    """The envelope's ``result`` (after :func:`envelope`'s checks)."""
    return envelope(text, command)["result"]
