"""Proofs of the polar hull's float answers for the exact rows, for many regions at once.

:func:`~.polar.facets_by_polar` reads a region's facets and boundedness off a
float convex hull.  Outside the artificial box these answers are proved here
for the exact rows (the float64 weights read as rationals), as follows.

* Every row the hull calls no facet gets the dual certificate of
  :func:`~.implied.certified_on_supports` on the support the hull gives it: the ray
  from the origin through its dual point ``p_k`` leaves the hull through a simplex
  whose ``d`` rows combine (nonnegatively) to row ``k``; else a shifted support
  (:meth:`~.polar.PolarHull.shifted_supports`); else the exact rows.  Unproved rows
  become borderline (their one-flip pattern is decided exactly).
* ``bounded``: True only with multipliers ``lambda > 0``, ``G_S^T lambda = 0`` on
  ``d + 1`` rows read off the hull (:func:`_certify_bounded`), checked rigorously
  (:func:`~.domain.proves_bounded`); False only with a recession direction (the mean
  of the hull's rays) strictly inside every row by more than the rows' error, or an
  exact direction near it checked in integers (:func:`lpengine.lp.exact.direction_near`).
  Otherwise None: the caller decides.

Why many regions at once.  Each step is a handful of numpy calls on arrays of a few
dozen rows, so a region's proofs cost mostly per-call overhead.  The search hands
over a batch of regions (:meth:`~.processor.RegionProcessor.process_batch`): the
exits of all their rays are found in one pass over padded hull arrays, and the first
certificates of all their rows are checked in one call on the stacked rows (a
certificate involves its own row and support only, and every computation is row by
row, so each region gets bit for bit the answers it would get alone).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from ..roundoff import gamma
from .domain import proves_bounded
from .implied import BOUND_SAFETY, RowErrors, certified_on_supports, float_certified
from .polar import PolarFacets, PolarHull, solve_simplices
from .polytope import FacetInfo

__all__ = ["certify_polar", "certify_polar_many", "PolarJob"]

#: One region's proof job: its polar facets, rows ``G``, ``h`` and their error bounds.
PolarJob = tuple[PolarFacets, NDArray[np.float64], NDArray[np.float64], RowErrors]

# Facet rows tried, in turn, for the boundedness certificate of _certify_bounded (one almost always serves).
_BOUNDED_TRIES = 3


def certify_polar(
    pf: PolarFacets, G: NDArray[np.float64], h: NDArray[np.float64], errors: RowErrors, *, want_bounded: bool = True
) -> tuple[FacetInfo, bool | None]:
    """The polar hull's float answers for one region, proved where floats can (see the module docstring).

    Returns ``(facets, bounded)``: ``facets`` with the unproved rows added to its
    borderline rows, ``bounded`` True/False when proved, else None (always None
    without ``want_bounded``).
    """
    return certify_polar_many([(pf, G, h, errors)], want_bounded=want_bounded)[0]


def certify_polar_many(jobs: Sequence[PolarJob], *, want_bounded: bool = True) -> list[tuple[FacetInfo, bool | None]]:
    """:func:`certify_polar` for several regions, with the numpy work batched; the same answers, in order."""
    n_jobs = len(jobs)
    if n_jobs == 0:
        return []
    nfs: list[NDArray[np.intp]] = []
    dirs: list[NDArray[np.float64]] = []
    tries: list[NDArray[np.intp]] = []
    for pf, G, _, _ in jobs:
        m = G.shape[0]
        covered = np.zeros(m, dtype=bool)
        if pf.facets.groups:
            covered[np.concatenate(pf.facets.groups)] = True
        covered[pf.facets.borderline] = True
        nf = np.flatnonzero(~covered)
        cand = pf.facets.rows[:_BOUNDED_TRIES] if want_bounded and pf.bounded is True else nf[:0]
        nfs.append(nf)
        tries.append(cand)
        # The rays through the dual points of the rows to prove, then through minus those of the candidates.
        pts = pf.hull.points
        dirs.append(np.concatenate((pts[nf], -pts[cand])) if cand.size else pts[nf])
    exits = _exits_many([pf.hull for pf, _, _, _ in jobs], dirs)
    proved = _rows_proved(jobs, nfs, exits)
    out: list[tuple[FacetInfo, bool | None]] = []
    for j, (pf, G, _, errors) in enumerate(jobs):
        facets = pf.facets
        nf = nfs[j]
        if not proved[j].all():
            borderline = np.union1d(facets.borderline, nf[~proved[j]]).astype(np.intp)
            facets = FacetInfo(facets.rows, facets.groups, facets.points, facets.vertices, borderline)
        bounded: bool | None = None
        if not want_bounded:
            pass
        elif pf.bounded is True:
            s_idx, t, mu, _ = exits[j]
            k = nf.shape[0]
            bounded = _certify_bounded(pf.hull, G, errors, tries[j], (s_idx[k:], t[k:], mu[k:]))
        elif pf.bounded is False and pf.rays.shape[0]:
            bounded = _certify_unbounded(pf, G, errors)
        out.append((facets, bounded))
    return out


_Exits = tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64], NDArray[np.intp]]


def _exits_many(hulls: Sequence[PolarHull], dirs: Sequence[NDArray[np.float64]]) -> list[_Exits]:
    """:meth:`PolarHull.exits` of ``dirs[j]`` in ``hulls[j]`` for every ``j``, in one pass over padded arrays.

    Each ray's products with its own hull's facet normals are computed as ``exits``
    computes them (one matrix product per hull, so bit for bit), then the ratios,
    the exit facets and the barycentric solves go over all rays at once (facets
    padded with ``finite = False`` never win).
    """
    if len(hulls) == 1:
        s1, t1, mu1 = hulls[0].exits(dirs[0])
        return [(s1, t1, mu1, hulls[0].simplices[s1])]
    counts = [x.shape[0] for x in dirs]
    n = sum(counts)
    d = hulls[0].points.shape[1]
    if n == 0:
        return [
            (np.zeros(0, dtype=np.intp), np.zeros(0), np.zeros((0, d)), np.zeros((0, d), dtype=np.intp)) for _ in hulls
        ]
    width = max(ph.normal.shape[0] for ph in hulls)
    num = np.zeros((n, width))
    b = np.zeros((n, width))
    finite = np.zeros((n, width), dtype=bool)
    start = 0
    for ph, x, c in zip(hulls, dirs, counts, strict=True):
        if c:
            S = ph.normal.shape[0]
            num[start : start + c, :S] = x @ ph.normal.T
            b[start : start + c, :S] = ph.b
            finite[start : start + c, :S] = ph.finite
            start += c
    D = np.concatenate([x for x in dirs if x.shape[0]])
    t = np.full((n, width), np.inf)
    np.divide(b, num, out=t, where=(num > 0) & finite)
    rows = np.arange(n)
    s = np.argmin(t, axis=1)
    tj = t[rows, s]
    A = np.empty((n, d, d))  # columns: the exit simplex's points
    simp = np.empty((n, d), dtype=np.intp)  # the exit simplices (local point indices)
    start = 0
    for ph, c in zip(hulls, counts, strict=True):
        if c:
            sj = ph.simplices[s[start : start + c]]
            simp[start : start + c] = sj
            A[start : start + c] = ph.points[sj].transpose(0, 2, 1)
            start += c
    ok = np.isfinite(tj)
    rhs = np.where(ok, tj, 0.0)[:, None] * D
    mu = solve_simplices(A, rhs, ok)
    out = []
    start = 0
    for c in counts:
        out.append((s[start : start + c], tj[start : start + c], mu[start : start + c], simp[start : start + c]))
        start += c
    return out


class _StackedExactRows:
    """The exact rows of several regions stacked like their float rows, each region's computed on first use.

    Stands for the stacked exact-row array in :func:`~.implied.certified_on_supports`,
    which reads single rows and the rows of one support (always of one region).
    """

    def __init__(self, getters: list[Callable[[], NDArray[Any]]], starts: list[int], width: int) -> None:
        self._getters, self._starts = getters, starts
        self.shape = (starts[-1], width)

    def __getitem__(self, key: int | list[int]) -> NDArray[Any]:
        first = key[0] if isinstance(key, list) else key
        j = bisect_right(self._starts, first) - 1
        P, start = self._getters[j](), self._starts[j]
        if isinstance(key, list):
            if not all(start <= i < self._starts[j + 1] for i in key):
                raise IndexError("rows of several regions asked at once")
            return P[[i - start for i in key]]
        return P[key - start]


def _rows_proved(
    jobs: Sequence[PolarJob],
    nfs: list[NDArray[np.intp]],
    exits: list[_Exits],
) -> list[NDArray[np.bool_]]:
    """For each region, which of its rows ``nfs[j]`` are proved no facet (one stacked certificate call)."""
    sizes = np.array([G.shape[0] for _, G, _, _ in jobs], dtype=np.intp)
    starts = np.concatenate(([0], np.cumsum(sizes))).astype(np.intp)
    ks = [nf.shape[0] for nf in nfs]
    if sum(ks) == 0:
        return [np.zeros(0, dtype=bool) for _ in jobs]
    # Every region's rows to prove, stacked (a region's own rows are offset by its start in the stacked G).
    all_owner = np.repeat(np.arange(len(jobs), dtype=np.intp), ks)
    offset = starts[all_owner]
    simplex = np.concatenate([e[3][:k] for e, k in zip(exits, ks, strict=True)])
    t = np.concatenate([e[1][:k] for e, k in zip(exits, ks, strict=True)])
    mu = np.concatenate([e[2][:k] for e, k in zip(exits, ks, strict=True)])
    usable = np.isfinite(t) & np.isfinite(mu).all(axis=1)
    # The support of row k: the real rows (not the origin) of its exit simplex, with positive weight.
    keep = usable[:, None] & (simplex < sizes[all_owner][:, None]) & (mu > 0)  # (comparisons with nan are False)
    supports = np.where(keep, simplex + offset[:, None], -1)
    all_rows = np.concatenate(nfs) + offset
    G = np.concatenate([job[1] for job in jobs])
    h = np.concatenate([job[2] for job in jobs])
    getters = [job[3].exact_rows for job in jobs]
    exact: Callable[[], NDArray[Any]] | None = None
    if all(g is not None for g in getters):
        view = _StackedExactRows(cast("list[Callable[[], NDArray[Any]]]", getters), starts.tolist(), G.shape[1] + 1)

        def exact() -> NDArray[Any]:
            return cast("NDArray[Any]", view)

    errors = RowErrors(np.concatenate([job[3].EG for job in jobs]), np.concatenate([job[3].Eh for job in jobs]), exact)

    def shifted(todo: NDArray[np.intp]) -> NDArray[np.bool_]:
        # The second certificate: each region's shifted supports, then one call on the stacked rows; a row's
        # extra rows are its own region's facet rows (weight 0 on every other region's).
        who = all_owner[todo]
        regions = np.unique(who).tolist()
        extra = np.concatenate([jobs[j][0].facets.rows + starts[j] for j in regions])
        weight = np.zeros((todo.shape[0], extra.shape[0]))
        sup = np.full((todo.shape[0], G.shape[1]), -1, dtype=np.intp)
        col = 0
        for j in regions:
            pos = np.flatnonzero(who == j)
            pf = jobs[j][0]
            r = pf.facets.rows.shape[0]
            w, sj = pf.hull.shifted_supports(all_rows[todo[pos]] - starts[j], pf.facets.rows)
            weight[pos, col : col + r] = w
            sup[pos] = np.where(sj >= 0, sj + starts[j], -1)
            col += r
        return float_certified(G, h, errors, all_rows[todo], sup, extra=extra, weight=weight)

    proved = certified_on_supports(G, h, errors, all_rows, supports, second=shifted)
    return np.split(proved, np.cumsum(ks)[:-1])


def _certify_unbounded(pf: PolarFacets, G: NDArray[np.float64], errors: RowErrors) -> bool | None:
    """False if a recession direction near the hull's rays is proved for the exact rows, else None."""
    d = G.shape[1]
    u = pf.rays.mean(axis=0)
    au = np.abs(u)
    err = BOUND_SAFETY * (errors.EG @ au + gamma(d + 1) * (np.abs(G) @ au))
    strict = -(G @ u) > err
    if bool(strict.all()):
        return False
    if errors.exact_rows is not None:
        # Rows constant along the recession cone (deep units no active first-layer unit feeds):
        # floats cannot prove "<= 0" there.  Make them exactly 0 along a nearby exact direction and
        # check every row in integers (P . (u, 0) >= 0 is G_exact u <= 0).
        from ..lp.exact import direction_near

        P = errors.exact_rows()
        if direction_near(-P[:, :d], u, ~strict) is not None:
            return False
    return None


def _certify_bounded(
    ph: PolarHull,
    G: NDArray[np.float64],
    errors: RowErrors,
    candidates: NDArray[np.intp],
    exits: tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]],
) -> bool | None:
    """True if floats prove the exact rows bounded from ``d + 1`` rows the hull points at, else None.

    For a row ``j`` the ray through ``-p_j`` leaves the hull through a simplex ``T``
    (``exits``: where the rays through ``-p_j``, ``j`` in ``candidates``, leave):
    ``t (-p_j) = sum_T mu_i p_i``, so with ``p = g / s`` the multipliers ``t / s_j`` and
    ``mu_i / s_i`` combine ``g_j`` and the rows of ``T`` to zero.  If they are positive
    and :func:`~.domain.proves_bounded` confirms them for the exact rows, the exact rows
    of ``S = {j} ∪ T`` positively span R^d: their recession cone ``{y : G_S y <= 0}``
    is ``{0}``, and so is the region's, which lies inside it.
    """
    m = G.shape[0]
    if candidates.size == 0:
        return None
    s_idx, t, mu = exits
    for c, j in enumerate(candidates.tolist()):
        simplex = ph.simplices[s_idx[c]]
        if not (np.isfinite(t[c]) and bool((simplex < m).all()) and j not in simplex.tolist()):
            continue
        if not bool((mu[c] > 0).all()):
            continue
        S = np.concatenate(([j], simplex))
        lam = np.concatenate(([t[c]], mu[c])) / ph.slack[S]
        # The basis: T's rows (those of a nondegenerate simplex are independent), at positions 1..d of S.
        basis = np.arange(1, S.shape[0], dtype=np.intp)
        if proves_bounded(G[S], RowErrors(errors.EG[S], errors.Eh[S]), lam / lam.min(), basis=basis):
            return True
    return None
