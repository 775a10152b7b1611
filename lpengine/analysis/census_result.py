"""Results of the landscape census: cell optima, local minima (connected components), the census itself.

Thetas in these results are in the public layout ``[W.ravel(), b]`` of
:class:`~lpengine.analysis.lossnet.LayerwiseL1Problem`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._display import fmt_num, html_card, short_repr
from ._cells import CellRows
from .lossnet import LayerwiseL1Problem

__all__ = ["CellSolution", "LocalMinimum", "LandscapeCensus"]


def _num(v: float) -> float | None:
    """A JSON-safe float (``None`` for ``inf``/``nan``)."""
    return float(v) if math.isfinite(v) else None


@dataclass(frozen=True)
class CellSolution:
    """Optimum of LP(H) on one hidden cell.

    Attributes
    ----------
    pattern : str
        The cell's hidden pattern (``str`` of :class:`~lpengine.regions.ActivationPattern`).
    value : float
        ``min L`` over the cell (over cell ∩ box when a box is given); ``inf`` for an empty cell.
    theta : ndarray, shape (D,)
        An optimal vertex (empty for an empty cell).
    status : str
        The LP status (``"optimal"`` or ``"infeasible"``).
    """

    pattern: str
    value: float
    theta: NDArray[np.float64]
    status: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``value`` is ``None`` for an empty cell)."""
        return {
            "pattern": self.pattern,
            "value": _num(self.value),
            "theta": [float(v) for v in self.theta],
            "status": self.status,
        }


@dataclass(frozen=True)
class LocalMinimum:
    """One local minimum: a connected component of the set of local-minimum points of ``L``.

    Attributes
    ----------
    theta : ndarray, shape (D,)
        A representative point of the component: an LP vertex of the component
        when it has one, otherwise a point of an optimal face with the smallest
        zero set (then ``n_vertices == 0``).
    loss : float
        ``L(θ)`` evaluated directly (not the LP value); ``L`` is constant on the component.
    n_cells : int
        Hidden cells whose optimal face meets the component.
    n_vertices : int
        Distinct LP vertices (one per cell LP, as HiGHS returned them) in the component.
    is_global : bool
        ``loss`` equals the global minimum within ``tol.objective``.
    verified : bool or None
        Outcome of the independent :func:`~lpengine.analysis.certify_local_minimum` at
        ``theta`` (``None`` if not run).
    """

    theta: NDArray[np.float64]
    loss: float
    n_cells: int
    n_vertices: int
    is_global: bool
    verified: bool | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "theta": [float(v) for v in self.theta],
            "loss": float(self.loss),
            "n_cells": self.n_cells,
            "n_vertices": self.n_vertices,
            "is_global": self.is_global,
            "verified": self.verified,
        }


@dataclass(frozen=True)
class LandscapeCensus:
    """Result of :func:`~lpengine.analysis.landscape_census`.

    Attributes
    ----------
    n_cells : int
        Hidden cells enumerated (certified by interior balls).
    complete : bool
        Whether the enumeration finished (otherwise nothing is certified).
    global_min : float
        ``min_H v_H`` over the enumerated cells.
    global_theta : ndarray, shape (D,)
    minima : tuple of LocalMinimum
        The distinct local minima (connected components of the set of local-minimum
        points), sorted by loss.
    n_minimum_vertices : int
        Distinct LP vertices that are local-minimum points (what earlier versions counted).
    n_candidates : int
        Distinct LP vertices over all cells.
    components_exact : bool
        False only if the pair budget of the component merge was exhausted (the
        number of minima is then an upper bound).
    certified : bool
        ``complete``, ``components_exact``, and every re-certification (if run) agreed.
    cells : tuple of CellSolution
    cell_minimum : ndarray of int, shape (n_cells,)
        Per cell, the index in ``minima`` of the minimum its optimal face meets (``-1``: none).
    domain : str
    lp_solves : int
        All LPs: enumeration, cell LPs and optimal-face LPs.
    face_lps : int
        LPs spent on optimal faces (cells whose LP vertex was refuted, and pair merges).
    seconds : float
    dim, n_samples : int
    problem : LayerwiseL1Problem
    cell_rows : tuple of CellRows
        Closure tests of the cells, in the model's internal layout.
    """

    n_cells: int
    complete: bool
    global_min: float
    global_theta: NDArray[np.float64]
    minima: tuple[LocalMinimum, ...]
    n_minimum_vertices: int
    n_candidates: int
    components_exact: bool
    certified: bool
    cells: tuple[CellSolution, ...]
    cell_minimum: NDArray[np.int64]
    domain: str
    lp_solves: int
    face_lps: int
    seconds: float
    dim: int
    n_samples: int
    problem: LayerwiseL1Problem = field(repr=False, compare=False)
    cell_rows: tuple[CellRows, ...] = field(repr=False, compare=False)

    @property
    def n_minima(self) -> int:
        """Number of distinct local minima (connected components)."""
        return len(self.minima)

    @property
    def n_minimal_sets(self) -> int:
        """Alias of :attr:`n_minima` (the name of earlier versions, where it was an upper bound)."""
        return len(self.minima)

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (Python scalars and lists only; no per-cell data)."""
        return {
            "dim": self.dim,
            "n_samples": self.n_samples,
            "domain": self.domain,
            "n_cells": self.n_cells,
            "complete": self.complete,
            "certified": self.certified,
            "global_min": self.global_min,
            "n_candidates": self.n_candidates,
            "n_minima": self.n_minima,
            "n_minima_global": sum(m.is_global for m in self.minima),
            "n_minima_without_vertex": sum(m.n_vertices == 0 for m in self.minima),
            "n_minimum_vertices": self.n_minimum_vertices,
            "minima_losses": [m.loss for m in self.minima],
            "minima_cells": [m.n_cells for m in self.minima],
            "minima_verified": [m.verified for m in self.minima],
            "components_exact": self.components_exact,
            "lp_solves": self.lp_solves,
            "face_lps": self.face_lps,
            "seconds": self.seconds,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: :meth:`summary` plus the minima, every cell and the global minimiser."""
        out = self.summary()
        out["global_theta"] = [float(v) for v in self.global_theta]
        out["minima"] = [m.to_dict() for m in self.minima]
        out["cells"] = [c.to_dict() for c in self.cells]
        out["cell_minimum"] = [int(v) for v in self.cell_minimum]
        return out

    def __repr__(self) -> str:
        return short_repr(
            "LandscapeCensus",
            [
                ("n_cells", self.n_cells),
                ("n_minima", self.n_minima),
                ("global_min", self.global_min),
                ("complete", self.complete),
                ("certified", self.certified),
            ],
        )

    def _repr_html_(self) -> str:
        """Notebook view: the census in numbers and the local minima by loss."""
        facts: list[tuple[str, Any]] = [
            ("cells", f"{self.n_cells:,d} ({'complete' if self.complete else 'INCOMPLETE'}), {self.domain}"),
            ("local minima", f"{self.n_minima:,d} ({'all certified' if self.certified else 'not all certified'})"),
            ("global minimum", self.global_min),
            ("work", f"{self.lp_solves:,d} LPs, {fmt_num(self.seconds, 3)} s"),
        ]
        rows = [(m.loss, m.n_cells, m.n_vertices, str(m.verified)) for m in sorted(self.minima, key=lambda m: m.loss)]
        return html_card(
            "LandscapeCensus",
            facts,
            header=("loss", "cells", "LP vertices", "verified"),
            rows=rows,
        )
