"""Vertex density along a descent path: step lengths and visited vertices near the minimum.

The mathematical object is the sequence of visited vertices ``θ_0, ..., θ_n``
of a Deep ReLU Simplex walk, ending at (or near) a local minimum ``θ_n``.
Hinz (2021) reports that "the density of vertices rises strongly around local
minima".  We measure it along the path in three ways:

* the step lengths ``s_k = ‖θ_{k+1} - θ_k‖`` (a high density of vertices means
  short steps), against the distance ``d_k = ‖θ_k - θ_n‖`` to the final vertex;
* the number ``N(ε)`` of visited vertices within distance ε of ``θ_n``; with a
  constant step length ``s`` and a straight approach, ``N(ε) ≈ ε / s``, so
  ``N(ε)/ε`` growing as ε shrinks means vertices crowd near the minimum;
* (for tiny problems) the number of *all* vertices of the kink arrangement in
  a ball, visited or not: :func:`lpengine.analysis.vertices.count_vertices_in_box`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_array, check_int, check_scalar
from ._json import fields_dict

__all__ = [
    "RadiusCounts",
    "DensitySummary",
    "step_lengths",
    "distances_to",
    "visited_within",
    "density_summary",
]


def _check_thetas(thetas: ArrayLike, min_rows: int = 1) -> NDArray[np.float64]:
    th = check_array(thetas, "thetas", ndim=2)
    if th.shape[0] < min_rows:
        raise ValueError(f"thetas has {th.shape[0]} row(s); expected at least {min_rows} visited vertices.")
    return th


def _check_ord(ord: float) -> float:
    if ord not in (1, 2, math.inf):
        raise ValueError(f"The 'ord' parameter must be 1, 2 or inf. Got {ord!r} instead.")
    return float(ord)


def step_lengths(thetas: ArrayLike, *, ord: float = 2) -> NDArray[np.float64]:
    """Lengths ``‖θ_{k+1} - θ_k‖`` of the steps between consecutive vertices.

    Parameters
    ----------
    thetas : array_like, shape (n_vertices, D)
    ord : {1, 2, inf}
        The vector norm.

    Returns
    -------
    ndarray, shape (n_vertices - 1,)

    Examples
    --------
    >>> step_lengths([[0.0, 0.0], [3.0, 4.0], [3.0, 5.0]]).tolist()
    [5.0, 1.0]
    """
    th = _check_thetas(thetas, 1)
    return np.linalg.norm(np.diff(th, axis=0), ord=_check_ord(ord), axis=1)


def distances_to(thetas: ArrayLike, *, center: ArrayLike | None = None, ord: float = 2) -> NDArray[np.float64]:
    """Distance of every vertex to ``center`` (default: the last vertex).

    Returns
    -------
    ndarray, shape (n_vertices,)

    Raises
    ------
    ValueError
        If ``center`` does not have length D.
    """
    th = _check_thetas(thetas, 1)
    c = th[-1] if center is None else check_array(center, "center", ndim=1, shape=(th.shape[1],))
    return np.linalg.norm(th - c, ord=_check_ord(ord), axis=1)


@dataclass(frozen=True)
class RadiusCounts:
    """Visited vertices within radius ε of a centre, for several ε.

    Attributes
    ----------
    radii : ndarray, shape (n_radii,)
        Increasing radii ε.
    counts : ndarray of int, shape (n_radii,)
        ``N(ε)``: vertices (the centre excluded) with distance ``<= ε``.
    n_vertices : int
        Length of the path.
    """

    radii: NDArray[np.float64]
    counts: NDArray[np.int64]
    n_vertices: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields (arrays as lists, ``inf``/``nan`` as ``None``)."""
        return fields_dict(self)

    @property
    def per_radius(self) -> NDArray[np.float64]:
        """``N(ε) / ε``: vertices per unit radius (path density)."""
        return self.counts / self.radii


def visited_within(
    thetas: ArrayLike,
    *,
    radii: ArrayLike | None = None,
    n_radii: int = 40,
    center: ArrayLike | None = None,
    ord: float = 2,
) -> RadiusCounts:
    """Count visited vertices within each radius ε of the final vertex (or ``center``).

    Parameters
    ----------
    thetas : array_like, shape (n_vertices, D)
    radii : array_like, optional
        Positive radii.  Default: ``n_radii`` log-spaced values from the
        smallest positive distance to the largest.
    n_radii : int
        Number of default radii.
    center : array_like, shape (D,), optional
        Default: the last vertex, which is itself not counted.
    ord : {1, 2, inf}

    Returns
    -------
    RadiusCounts

    Raises
    ------
    ValueError
        On bad shapes, non-positive radii, or a path whose vertices all coincide
        with the centre (no default radii).

    Examples
    --------
    >>> rc = visited_within([[4.0], [2.0], [1.0], [0.0]], radii=[1.0, 2.5])
    >>> rc.counts.tolist()
    [1, 2]
    """
    th = _check_thetas(thetas, 1)
    d = distances_to(th, center=center, ord=ord)
    if center is None:
        d = d[:-1]
    if radii is None:
        n_radii = check_int(n_radii, "n_radii", low=1)
        pos = d[d > 0.0]
        if pos.size == 0:
            raise ValueError("all visited vertices coincide with the centre; pass explicit radii.")
        r = np.geomspace(float(pos.min()), float(pos.max()), n_radii) if pos.min() < pos.max() else pos[:1]
    else:
        r = np.sort(check_array(radii, "radii", ndim=1))
        if r[0] <= 0.0:
            raise ValueError(f"radii must be positive; got {r[0]!r}.")
    ds = np.sort(d)
    counts = np.searchsorted(ds, r, side="right").astype(np.int64)
    return RadiusCounts(r, counts, int(th.shape[0]))


@dataclass(frozen=True)
class DensitySummary:
    """Does the density of visited vertices rise near the end of the path?

    Attributes
    ----------
    n_steps : int
    median_step_early, median_step_late : float
        Median step length over the first / last ``fraction`` of the steps.
    step_ratio : float
        ``median_step_early / median_step_late`` (> 1: steps shrink near the end;
        ``inf`` if the late median is 0).
    median_step_far, median_step_near : float
        Median step length of the steps starting at the ``fraction`` of vertices
        farthest from / nearest to the final vertex.
    spearman : float
        Spearman rank correlation between step length ``s_k`` and distance
        ``d_k`` to the final vertex (> 0: shorter steps closer to the minimum).
    zero_steps : int
        Number of degenerate (length-0) pivots.
    fraction : float
    """

    n_steps: int
    median_step_early: float
    median_step_late: float
    step_ratio: float
    median_step_far: float
    median_step_near: float
    spearman: float
    zero_steps: int
    fraction: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields (arrays as lists, ``inf``/``nan`` as ``None``)."""
        return fields_dict(self)


def density_summary(thetas: ArrayLike, *, fraction: float = 0.1, ord: float = 2) -> DensitySummary:
    """Summarise how step lengths change along the path and towards the final vertex.

    Parameters
    ----------
    thetas : array_like, shape (n_vertices, D)
        At least 3 vertices (2 steps).
    fraction : float in (0, 0.5]
        Share of the steps in the early/late and far/near groups (at least one step each).
    ord : {1, 2, inf}

    Returns
    -------
    DensitySummary

    Raises
    ------
    ValueError
        On bad shapes or a bad ``fraction``.
    """
    from scipy.stats import spearmanr

    th = _check_thetas(thetas, 3)
    fraction = check_scalar(fraction, "fraction", low=0.0, high=0.5, high_inclusive=True)
    s = step_lengths(th, ord=ord)
    d = distances_to(th, ord=ord)[:-1]
    n = s.shape[0]
    g = max(1, int(round(fraction * n)))
    early, late = float(np.median(s[:g])), float(np.median(s[-g:]))
    order = np.argsort(d, kind="stable")
    near, far = float(np.median(s[order[:g]])), float(np.median(s[order[-g:]]))
    rho = 0.0
    if n >= 3 and np.ptp(s) > 0.0 and np.ptp(d) > 0.0:
        rho = float(spearmanr(s, d).statistic)
    ratio = math.inf if late == 0.0 else early / late
    return DensitySummary(n, early, late, ratio, far, near, rho, int(np.sum(s == 0.0)), fraction)
