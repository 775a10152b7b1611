"""What one Deep ReLU Simplex run is given and what it records: the engine's options, the log of its
vertices and moves (:class:`EngineLog`, :class:`EdgeRecord`), and the id of a hidden cell.  Shared by the
native engine (:mod:`lpengine.simplex.engine`), the HiGHS engine and the result assembly."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .model import LayerwiseModel
from .pivot import Pricing, Vertex
from .progress import DRSCallback

__all__ = ["EdgeRecord", "EngineLog", "EngineOptions", "region_id"]


@dataclass
class EngineOptions:
    """Options of one run (validated by the public functions)."""

    line_search: bool = True
    max_pivots: int | None = None
    time_limit: float | None = None
    verify: bool = False
    seed: int | None = None
    pricing: str = "steepest"
    refactor_every: int = 50
    bland_after: int = 20
    max_zero_steps: int = 2000
    backend: str = "highs"
    callback: DRSCallback | None = None


@dataclass(frozen=True)
class EdgeRecord:
    """One logged move between consecutive vertices (an edge of the trajectory graph).

    ``step``: distance travelled; ``t``: ray parameter; ``kinks_crossed``; ``region_changed``;
    ``leaving`` / ``entering``: kink ids (-1 when not a pivot); ``slope``: normalised slope of the
    ray taken; ``kind``: ``"pivot"``, ``"region"`` (HiGHS engine), ``"escape"`` or ``"revive"``.
    """

    step: float
    t: float
    kinks_crossed: int
    region_changed: bool
    leaving: int
    entering: int
    slope: float
    kind: str


@dataclass
class EngineLog:
    """Everything the engine records (mutable while running)."""

    thetas: list[NDArray[np.float64]] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    n_tight: list[int] = field(default_factory=list)  # kinks at zero per vertex, collapsed units' kinks excluded
    n_collapsed: list[int] = field(default_factory=list)  # units pinned at exact zero per vertex
    bases: list[NDArray[np.int64]] = field(default_factory=list)
    edges: list[EdgeRecord] = field(default_factory=list)  # one per move
    status: str = ""
    message: str = ""
    nit: int = 0
    phase1_steps: int = 0
    region_changes: int = 0
    kinks_crossed: int = 0
    zero_steps: int = 0
    refactorisations: int = 0
    max_inverse_drift: float = 0.0
    max_basis_drift: float = 0.0
    snaps: int = 0
    verified: int = 0
    max_verify_theta: float = 0.0
    max_verify_loss: float = 0.0
    perturbation: NDArray[np.float64] | None = None
    start_loss: float = float("nan")
    theta0: NDArray[np.float64] | None = None
    final: Vertex | None = None
    pricing: Pricing | None = None
    unbounded_ray: NDArray[np.float64] | None = None
    collapsed: list[int] = field(default_factory=list)  # trained-layer units pinned at exact zero (see collapse.py)
    collapse_events: int = 0
    seconds: float = 0.0
    phase1_seconds: float = 0.0
    cpu_seconds: float = 0.0
    escapes: int = 0
    revivals: int = 0
    lp_solves: int = 0
    lp_iterations: int = 0


def region_id(model: LayerwiseModel, signs: NDArray[np.int8]) -> str:
    """Short id of the hidden cell (hash of the tracked hidden signs); ``"-"`` without hidden kinks."""
    if model.n_hidden_kinks == 0:
        return "-"
    return hashlib.blake2b(np.packbits(signs[: model.n_hidden_kinks] > 0).tobytes(), digest_size=8).hexdigest()
