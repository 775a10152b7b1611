"""LP backends: ``"highs"`` (default, persistent highspy instances) and ``"scipy"`` (reference)."""

from __future__ import annotations

from typing import Any

from ...exceptions import BackendNotAvailable
from .base import LPBackend, WarmSolver
from .highs import HighsBackend
from .scipy import ScipyBackend

__all__ = ["LPBackend", "WarmSolver", "get_backend", "available_backends", "BACKENDS"]

BACKENDS: dict[str, type] = {"highs": HighsBackend, "scipy": ScipyBackend}


def available_backends() -> list[str]:
    """Names of the backends that can be used on this machine."""
    return [name for name, cls in BACKENDS.items() if cls().is_available()]


def get_backend(backend: Any = "highs") -> Any:
    """Resolve a backend name (or pass a backend object through)."""
    if not isinstance(backend, str):
        if isinstance(backend, LPBackend):
            return backend
        raise TypeError(f"backend must be a name in {sorted(BACKENDS)} or an LPBackend; got {backend!r}.")
    try:
        cls = BACKENDS[backend]
    except KeyError:
        raise ValueError(f"unknown LP backend {backend!r}; known backends: {sorted(BACKENDS)}.") from None
    inst = cls()
    if not inst.is_available():
        raise BackendNotAvailable(
            f"LP backend {backend!r} is not available; available backends: {available_backends()}."
        )
    return inst
