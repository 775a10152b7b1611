"""Exact enumeration of the activation regions of a ReLU network.

Algorithm (breadth-first search over the dual graph, ``region_counting.md`` §2.3):

1. Start from the region containing an interior point of the domain.
2. For each region ``S``, build its normalised rows (:func:`region_halfspaces`)
   and find its facets exactly:

   * bounded domains with ``n_in >= 2`` (method ``"vertex"``): Qhull computes
     the region's vertices from an interior point; a row is a facet iff the
     vertices on it span a (d-1)-dimensional set.  No LP is needed; the
     interior point for Qhull comes from the neighbour crossing (see below).
   * otherwise (method ``"lp"``; R^d, unbounded polytopes, n_in = 1, or as a
     fallback when Qhull refuses): one Chebyshev LP for the centre, ray
     shooting, and one LP per remaining candidate row.

3. The neighbour across a facet flips exactly the units whose hyperplanes form
   that facet (coincident hyperplanes flip together).  Its interior point is
   the facet's centre pushed halfway across the neighbour along the normal.

Certificates.  Every counted region carries a witness ``x`` and a margin
``r > tol.margin`` such that the ball ``B(x, r)`` lies in the region (recomputed
from the region's own rows), and re-evaluating the network at ``x``
reproduces the pattern.  Regions whose largest inscribed ball has radius
``<= tol.margin`` (checked by the Chebyshev LP) are *thin*: not counted, listed
in ``thin_patterns``.

Degenerate input, and the documented answers:

* coincident hyperplanes (duplicate units, a unit coinciding with a domain
  face): one facet; crossing it flips all of its units together;
* several hyperplanes through one point: handled exactly (facets are decided
  by vertex spans or LPs, never by genericity assumptions);
* dead units (zero local gradient): no hyperplane; the sign follows the
  constant value, a value within ``tol.activation`` of 0 counting as inactive;
* regions thinner than ``tol.margin``: not counted (see above).

Parallelism (``n_jobs > 1``, bounded domains): the domain is cut into slabs
along the first coordinate; each worker enumerates the regions meeting its
slab and *owns* a region iff the slab's left face is not one of its facets
(the region does not continue to the left).  Every region is owned by exactly
one slab; edges are merged.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from .._validation import check_int, check_scalar
from ..exceptions import InvalidDomainError, IterationLimitWarning
from ..lp import LPCounters, LPStatus
from ..network import LocalAffineMap, ReLUNetwork
from ..tolerances import Tolerances, resolve_tolerances
from .pattern import ActivationPattern, AmbiguousPointError, pattern_at, pattern_toward
from .polytope import (
    Domain,
    FacetInfo,
    chebyshev_center,
    facets_by_lp,
    facets_by_vertices,
    make_domain,
    region_halfspaces,
)

__all__ = ["Region", "RegionEnumeration", "EnumerationProgress", "enumerate_regions", "count_regions"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Region:
    """One full-dimensional activation region (intersected with the domain).

    Attributes
    ----------
    pattern : ActivationPattern
    witness : ndarray, shape (n_in,)
        Interior point: the ball of radius ``margin`` around it lies in the region.
    margin : float
        Radius of that ball (> ``tol.margin``).
    affine : LocalAffineMap
        Pre-activations (and the output map, if the network has an output layer) on the region.
    facet_units : tuple of tuple of int
        For each facet between this region and a neighbour, the hidden units whose
        hyperplane forms it.
    n_facets : int
        All facets, domain faces included.
    bounded : bool or None
        Whether the region is bounded (always True in a bounded domain; decided by
        an LP in R^d; ``None`` if not computed).
    """

    pattern: ActivationPattern
    witness: NDArray[np.float64]
    margin: float
    affine: LocalAffineMap
    facet_units: tuple[tuple[int, ...], ...]
    n_facets: int
    bounded: bool | None = None

    @property
    def rank(self) -> int | None:
        """Rank of the output map on the region (``None`` without an output layer)."""
        return self.affine.rank

    @property
    def neighbors(self) -> tuple[ActivationPattern, ...]:
        """Patterns of the regions sharing a facet with this one."""
        return tuple(self.pattern.flip(u) for u in self.facet_units)


@dataclass(frozen=True)
class EnumerationProgress:
    """State passed to ``callback`` about once per region batch."""

    regions: int
    queued: int
    lp_solves: int
    seconds: float


@dataclass(frozen=True, eq=False)
class RegionEnumeration:
    """Result of :func:`enumerate_regions`.

    Attributes
    ----------
    count : int
        Number of full-dimensional activation regions found.
    complete : bool
        False when a budget (``max_regions``, ``time_limit``, callback) stopped
        the search: then ``count`` is a lower bound only.
    regions : tuple of Region
    graph : networkx.Graph
        Dual graph: node ``str(pattern)`` with attributes ``index`` (position in
        ``regions``), ``margin``, ``n_active``; edge = shared facet, attribute
        ``units`` (comma-separated flipped unit indices) and ``n_units``.
    lp_solves, lp_iterations : int
    seconds : float
    method : str
        ``"vertex"`` or ``"lp"`` (see the module docstring).
    domain : str
        Description of the domain.
    thin_patterns : tuple of str
        Patterns met whose region is thinner than ``tol.margin`` (not counted).
    layer_stats : tuple of dict
        Per hidden layer ``l``: ``prefix_regions`` (distinct patterns of layers
        ``1..l``, i.e. the region count of the network truncated after layer l),
        ``mean_active`` (mean active units of layer l over regions),
        ``never_active`` and ``always_active`` (units of layer l).
    message : str
    """

    count: int
    complete: bool
    regions: tuple[Region, ...]
    graph: nx.Graph
    lp_solves: int
    lp_iterations: int
    seconds: float
    method: str
    domain: str
    thin_patterns: tuple[str, ...]
    layer_stats: tuple[dict[str, Any], ...]
    message: str

    @property
    def n_bounded(self) -> int | None:
        """Number of bounded regions (``None`` if boundedness was not computed)."""
        if any(r.bounded is None for r in self.regions):
            return None
        return sum(bool(r.bounded) for r in self.regions)

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (Python scalars only)."""
        out: dict[str, Any] = {
            "regions": self.count,
            "complete": self.complete,
            "lp_solves": self.lp_solves,
            "lp_iterations": self.lp_iterations,
            "lp_solves_per_region": self.lp_solves / self.count if self.count else 0.0,
            "seconds": self.seconds,
            "regions_per_second": self.count / self.seconds if self.seconds > 0 else None,
            "method": self.method,
            "domain": self.domain,
            "edges": self.graph.number_of_edges(),
            "thin_regions_skipped": len(self.thin_patterns),
            "layer_stats": list(self.layer_stats),
            "min_margin": min((r.margin for r in self.regions), default=None),
            "message": self.message,
        }
        nb = self.n_bounded
        if nb is not None:
            out["bounded_regions"] = nb
        ranks = [r.rank for r in self.regions]
        if ranks and ranks[0] is not None:
            hist: dict[str, int] = {}
            for rk in ranks:
                hist[str(rk)] = hist.get(str(rk), 0) + 1
            out["output_rank_histogram"] = hist
        return out


class _Stop(Exception):
    pass


@dataclass
class _Work:
    """One region processed by a worker (picklable)."""

    signs: NDArray[np.int8]
    witness: NDArray[np.float64]
    margin: float
    facet_units: list[tuple[int, ...]]
    n_facets: int
    bounded: bool | None
    owned: bool
    affine: LocalAffineMap


@dataclass
class _SearchOut:
    works: list[_Work] = field(default_factory=list)
    edges: list[tuple[bytes, bytes, tuple[int, ...]]] = field(default_factory=list)
    thin: list[NDArray[np.int8]] = field(default_factory=list)
    counters: LPCounters = field(default_factory=LPCounters)
    complete: bool = True
    message: str = "complete"
    method: str = "vertex"


def _start_point(net: ReLUNetwork, domain: Domain, tol: Tolerances, seed: int) -> tuple[NDArray[np.float64], ActivationPattern]:
    rng = np.random.default_rng(seed)
    x = domain.center.copy()
    scale = domain.radius if np.isfinite(domain.radius) else 1.0
    for attempt in range(200):
        inside = domain.G.shape[0] == 0 or bool(np.all(domain.G @ x < domain.h))
        if inside:
            try:
                return x, pattern_at(net, x, tol=tol)
            except AmbiguousPointError:
                pass
        x = domain.center + rng.uniform(-0.5, 0.5, size=domain.dim) * scale * min(1.0, 0.01 * (attempt + 1))
    raise InvalidDomainError("could not find a start point off every hyperplane inside the domain.")


def _search(
    net: ReLUNetwork,
    domain: Domain,
    tol: Tolerances,
    *,
    method: str,
    start: tuple[NDArray[np.float64], ActivationPattern],
    own_face: NDArray[np.float64] | None,
    max_regions: int | None,
    deadline: float | None,
    callback: Callable[[EnumerationProgress], bool | None] | None,
    compute_bounded: bool,
    t0: float,
) -> _SearchOut:
    """BFS over the dual graph inside ``domain``.

    ``own_face`` = (g, h) of the slab's left face (a domain row) when running as
    one slab of a parallel search: a region is owned iff that face is not a facet.
    """
    out = _SearchOut(method=method)
    d = domain.dim
    x0, p0 = start
    seen: set[bytes] = {p0.key}
    # queue items: (signs, facet point or None, inward normal or None, suggested witness)
    queue: deque[tuple[NDArray[np.int8], NDArray[np.float64] | None, NDArray[np.float64] | None, NDArray[np.float64] | None]] = deque()
    queue.append((np.array(p0.signs), None, None, x0))
    last_report = -np.inf  # the callback sees the first region at once, then about twice a second
    n_regions = 0
    while queue:
        if max_regions is not None and n_regions >= max_regions:
            out.complete, out.message = False, f"stopped at max_regions = {max_regions}"
            break
        now = time.perf_counter()
        if deadline is not None and now > deadline:
            out.complete, out.message = False, "stopped at time_limit"
            break
        if callback is not None and now - last_report > 0.5:
            last_report = now
            state = EnumerationProgress(n_regions, len(queue), out.counters.solves, now - t0)
            if callback(state):
                out.complete, out.message = False, "stopped by callback"
                break
        signs, fpoint, fnormal, guess = queue.popleft()
        rows = region_halfspaces(net, signs, domain, tol)
        if not rows.consistent:
            out.thin.append(signs)
            continue
        G, h = rows.G, rows.h
        witness, margin = _initial_witness(G, h, fpoint, fnormal, guess, tol)
        facets: FacetInfo | None = None
        use_vertex = method == "vertex" and d >= 2
        if use_vertex and margin > tol.margin:
            facets = facets_by_vertices(G, h, witness, tol)
        if facets is None:
            # LP path: Chebyshev centre (certificate and interior point), then facets.
            r_max = 1.0 if not domain.bounded else np.inf
            center, radius, status = chebyshev_center(G, h, r_max=r_max, tol=tol, solver=out.counters)
            if center is None and status is not LPStatus.INFEASIBLE:
                _unresolved(out, signs, status)
                continue
            if center is None or radius <= tol.margin:
                out.thin.append(signs)
                continue
            witness, margin = center, radius
            if use_vertex:
                facets = facets_by_vertices(G, h, witness, tol)
            if facets is None:
                facets = facets_by_lp(G, h, witness, tol, out.counters)
        if facets.vertices is not None:
            # Certificate: the vertex centroid, with its exact distance to every row.
            cen = facets.vertices.sum(axis=0) / facets.vertices.shape[0]
            m_cen = float((h - G @ cen).min())
            if m_cen > margin:
                witness, margin = cen, m_cen
        if margin <= tol.margin:
            center, radius, status = chebyshev_center(G, h, r_max=np.inf if domain.bounded else 1.0, tol=tol,
                                                      solver=out.counters)
            if center is None and status is not LPStatus.INFEASIBLE:
                _unresolved(out, signs, status)
                continue
            if center is None or radius <= tol.margin:
                out.thin.append(signs)
                continue
            witness, margin = center, radius
        n_regions += 1
        # Units identically zero on this region (dead with value 0) may come alive across a
        # facet with their hyperplane lying on it; such units must flip with the facet.
        last_vanishing = -1
        if rows.any_dead:
            vanishing = np.flatnonzero(rows.dead & (np.abs(rows.c) <= tol.activation))
            last_vanishing = int(vanishing.max()) if vanishing.size else -1
        facet_units: list[tuple[int, ...]] = []
        owned = True
        key0 = signs.tobytes()
        fin = np.isfinite(facets.points).all(axis=1)
        for rep, grp, pt, pt_ok in zip(facets.rows.tolist(), facets.groups, facets.points, fin.tolist()):
            if grp.shape[0] == 1:
                u = int(rows.unit[rep])
                if u < 0:
                    # A domain face: no neighbour inside.
                    if own_face is not None and _is_face(G[rep], h[rep], own_face, tol):
                        owned = False
                    continue
                flipped: tuple[int, ...] = (u,)
            else:
                units = rows.unit[grp]
                if np.any(units < 0):
                    # A domain face with unit hyperplanes lying on it: no neighbour inside.
                    if own_face is not None and _is_face(G[rep], h[rep], own_face, tol):
                        owned = False
                    continue
                flipped = tuple(sorted(units.tolist()))
            nb = signs.copy()
            nb[list(flipped)] *= -1
            if (len(flipped) > 1 or last_vanishing > flipped[0]) and pt_ok:
                # Degenerate crossing: several units share the facet (possibly in different
                # layers, the deeper ones depending on the shallower), or deeper units vanish
                # here and may come alive on the far side with their hyperplane on the facet.
                # Flipping the group is then not enough; the one-sided limit decides exactly.
                nb = pattern_toward(net, pt, G[rep], tol=tol)
                flipped = tuple(np.flatnonzero(nb != signs).tolist())
            key = nb.tobytes()
            facet_units.append(flipped)
            out.edges.append((key0, key, flipped))
            if key not in seen:
                seen.add(key)
                queue.append((nb, pt if pt_ok else None, G[rep], witness))
        bounded: bool | None = True if domain.bounded else None
        if compute_bounded and not domain.bounded:
            from .polytope import _is_bounded

            bounded = _is_bounded(G, tol)
        out.works.append(_Work(rows.signs.copy(), witness, margin, facet_units, int(len(facets.rows)), bounded, owned,
                               LocalAffineMap(rows.A, rows.c, rows.out_A, rows.out_c)))
    return out


def _unresolved(out: _SearchOut, signs: NDArray[np.int8], status: LPStatus) -> None:
    """An LP gave no usable answer for a pattern: never guess, mark the result incomplete."""
    out.complete = False
    out.message = f"a region LP ended with status {status.value}; the count is a lower bound"
    logger.warning("region LP for pattern %s ended with status %s", signs.tolist(), status.value)


def _initial_witness(
    G: NDArray[np.float64], h: NDArray[np.float64], fpoint: NDArray[np.float64] | None,
    fnormal: NDArray[np.float64] | None, guess: NDArray[np.float64] | None, tol: Tolerances,
) -> tuple[NDArray[np.float64], float]:
    """An interior point: the shared facet's centre pushed halfway across this region.

    ``fnormal`` points from the parent into this region.  Along it, the first
    row (other than the facet's own, which is at zero slack and increasing)
    to be hit bounds the step; the point halfway has positive margin.  Two
    axis-chord centring passes then improve the margin cheaply.
    """
    if G.shape[0] == 0:
        return (np.zeros(G.shape[1]) if guess is None else guess), np.inf
    if fpoint is not None and fnormal is not None:
        slack = h - G @ fpoint
        rate = G @ fnormal
        hit = (rate > tol.pivot) & (slack > tol.activation)  # the facet itself (and coincident rows) excluded
        step = float((slack[hit] / rate[hit]).min()) if hit.any() else 1.0
        x = fpoint + (0.5 * step) * fnormal
        slack -= (0.5 * step) * rate
    elif guess is not None:
        x = guess
        slack = h - G @ x
    else:
        return np.zeros(G.shape[1]), -np.inf
    if slack.min() > 0:
        x, slack = _center_by_chords(G, x, slack, tol)
    return x, float(slack.min())


def _center_by_chords(G: NDArray[np.float64], x: NDArray[np.float64], slack: NDArray[np.float64], tol: Tolerances,
                      passes: int = 2) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Move the interior point ``x`` (row slacks ``slack > 0``) towards the middle by axis chords.

    Each pass finds, for every coordinate axis at once, the chord of the
    polytope through ``x`` along that axis and moves ``x`` to the mean of the
    chord midpoints: a convex combination of points of the polytope, so ``x``
    stays strictly inside.  Returns the new point and its slacks.
    """
    d = G.shape[1]
    pos, neg = G > tol.pivot, G < -tol.pivot
    Gs = np.where(pos | neg, G, 1.0)
    for _ in range(passes):
        ratio = slack[:, None] / Gs
        tp = np.where(pos, ratio, np.inf).min(axis=0)
        tm = np.where(neg, -ratio, np.inf).min(axis=0)
        ok = (tp < np.inf) & (tm < np.inf)
        delta = np.where(ok, (0.5 / d) * (np.where(ok, tp, 0.0) - np.where(ok, tm, 0.0)), 0.0)
        x = x + delta
        slack = slack - G @ delta
    return x, slack


def _is_face(g: NDArray[np.float64], h: float, face: NDArray[np.float64], tol: Tolerances) -> bool:
    return bool(np.max(np.abs(g - face[:-1])) <= tol.coincident and abs(h - face[-1]) <= tol.coincident)


def _slab_worker(args: tuple[Any, ...]) -> _SearchOut:
    net, dom_kw, lo1, hi1, is_first, tol, method, max_regions, deadline, seed, t0 = args
    base = make_domain(net.n_in, tol=tol, **dom_kw)
    # Slab = domain ∩ {lo1 <= x_0 <= hi1}.
    e0 = np.zeros(net.n_in)
    e0[0] = 1.0
    G = np.vstack([base.G, e0, -e0])
    h = np.concatenate([base.h, [hi1, -lo1]])
    center = base.center.copy()
    center[0] = 0.5 * (lo1 + hi1)
    slab = Domain("slab", G, h, True, center, min(base.radius, 0.5 * (hi1 - lo1)))
    face = None if is_first else np.concatenate([-e0, [-lo1]])
    start = _start_point(net, slab, tol, seed)
    return _search(net, slab, tol, method=method, start=start, own_face=face, max_regions=max_regions,
                   deadline=deadline, callback=None, compute_bounded=False, t0=t0)


def enumerate_regions(
    net: ReLUNetwork,
    *,
    box: Any = None,
    polytope: Any = None,
    whole_space: bool = False,
    method: str = "auto",
    tol: Tolerances | None = None,
    max_regions: int | None = None,
    time_limit: float | None = None,
    callback: Callable[[EnumerationProgress], bool | None] | None = None,
    n_jobs: int = 1,
    compute_bounded: bool | None = None,
    seed: int = 0,
) -> RegionEnumeration:
    """Enumerate every full-dimensional activation region of ``net`` in a domain.

    Parameters
    ----------
    net : ReLUNetwork
    box : (lo, hi), optional
        The box ``[lo, hi]^n_in`` (scalars or per-coordinate vectors).  The
        default domain is the box ``[-1, 1]^n_in``.
    polytope : (A, c), optional
        The polytope ``{x : A x <= c}`` (bounded or not) with non-empty interior.
    whole_space : bool
        Enumerate the regions of all of R^n_in.
    method : {"auto", "vertex", "lp"}
        ``"vertex"``: Qhull vertex-based facets (bounded domains, n_in >= 2);
        ``"lp"``: one LP per candidate facet; ``"auto"`` picks ``"vertex"`` when
        it applies.
    tol : Tolerances, optional
    max_regions : int, optional
        Stop after this many regions (``complete=False``).
    time_limit : float, optional
        Stop after this many seconds (``complete=False``).
    callback : callable, optional
        ``callback(EnumerationProgress) -> bool | None`` about twice a second;
        returning True stops the search (``complete=False``).
    n_jobs : int
        Worker processes (bounded domains only); regions are split by slabs of
        the first coordinate with exact ownership (see module docstring).
    compute_bounded : bool, optional
        Decide boundedness of each region by an LP (default: True for R^d and
        unbounded polytopes).
    seed : int
        Seed for the start-point perturbation (used only if the domain centre
        lies on a hyperplane).

    Returns
    -------
    RegionEnumeration

    Raises
    ------
    InvalidDomainError
        Malformed or empty domain.

    Examples
    --------
    >>> from lpengine import ReLUNetwork
    >>> net = ReLUNetwork([[[1.0, 0.0], [0.0, 1.0]]], [[0.0, 0.0]], has_output_layer=False)
    >>> enumerate_regions(net, box=(-1, 1)).count
    4
    """
    if not isinstance(net, ReLUNetwork):
        raise TypeError(f"net must be a ReLUNetwork; got {type(net).__name__}.")
    t = resolve_tolerances(tol)
    if method not in ("auto", "vertex", "lp"):
        raise ValueError(f"The 'method' parameter must be 'auto', 'vertex' or 'lp'. Got {method!r} instead.")
    if max_regions is not None:
        max_regions = check_int(max_regions, "max_regions", low=1)
    if time_limit is not None:
        time_limit = check_scalar(time_limit, "time_limit", low=0.0)
    n_jobs = check_int(n_jobs, "n_jobs", low=1)
    dom_kw = {"box": box, "polytope": polytope, "whole_space": whole_space}
    domain = make_domain(net.n_in, tol=t, **dom_kw)
    if method == "auto":
        method = "vertex" if (domain.bounded and net.n_in >= 2) else "lp"
    elif method == "vertex" and not domain.bounded:
        raise InvalidDomainError("method='vertex' needs a bounded domain; use method='lp' or 'auto'.")
    if compute_bounded is None:
        compute_bounded = not domain.bounded
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    if n_jobs > 1 and domain.bounded and domain.kind == "box":
        outs = _parallel(net, dom_kw, domain, t, method, max_regions, deadline, seed, n_jobs, t0)
    else:
        start = _start_point(net, domain, t, seed)
        outs = [_search(net, domain, t, method=method, start=start, own_face=None, max_regions=max_regions,
                        deadline=deadline, callback=callback, compute_bounded=compute_bounded, t0=t0)]
    return _assemble(net, domain, outs, method, time.perf_counter() - t0)


def _parallel(net: ReLUNetwork, dom_kw: dict[str, Any], domain: Domain, tol: Tolerances, method: str,
              max_regions: int | None, deadline: float | None, seed: int, n_jobs: int, t0: float) -> list[_SearchOut]:
    import multiprocessing as mp

    assert domain.lo is not None and domain.hi is not None
    n_slabs = 4 * n_jobs
    # Cut points at slightly irregular positions so no cut lies on a "nice" hyperplane by accident.
    frac = (np.arange(1, n_slabs) + 0.0137) / n_slabs
    cuts = np.concatenate([[domain.lo[0]], domain.lo[0] + frac * (domain.hi[0] - domain.lo[0]), [domain.hi[0]]])
    jobs = [(net, dom_kw, float(cuts[i]), float(cuts[i + 1]), i == 0, tol, method, max_regions, deadline, seed, t0)
            for i in range(n_slabs)]
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    with ctx.Pool(n_jobs) as pool:
        return list(pool.imap(_slab_worker, jobs))


def _assemble(net: ReLUNetwork, domain: Domain, outs: list[_SearchOut], method: str, seconds: float) -> RegionEnumeration:
    widths = net.hidden_widths
    regions: list[Region] = []
    index: dict[bytes, int] = {}
    counters = LPCounters()
    complete = all(o.complete for o in outs)
    messages = sorted({o.message for o in outs if o.message != "complete"})
    for o in outs:
        counters.merge(o.counters)
        for w in o.works:
            key = w.signs.tobytes()
            if not w.owned or key in index:
                continue
            index[key] = len(regions)
            regions.append(Region(ActivationPattern._trusted(w.signs, widths), w.witness, w.margin, w.affine,
                                  tuple(w.facet_units), w.n_facets, w.bounded))
    G = nx.Graph()
    names = [str(r.pattern) for r in regions]
    G.add_nodes_from((names[i], {"index": i, "margin": float(r.margin), "n_active": int(np.sum(r.pattern.signs > 0))})
                     for i, r in enumerate(regions))
    edges = {}
    for o in outs:
        for a, b, units in o.edges:
            ia, ib = index.get(a), index.get(b)
            if ia is not None and ib is not None:
                pair = (ia, ib) if ia < ib else (ib, ia)
                if pair not in edges:
                    edges[pair] = units
    G.add_edges_from((names[ia], names[ib], {"units": ",".join(map(str, u)), "n_units": len(u)})
                     for (ia, ib), u in edges.items())
    thin = sorted({str(ActivationPattern(s, widths)) for o in outs for s in o.thin} -
                  {str(r.pattern) for r in regions})
    stats = _layer_stats(net, regions)
    msg = "complete" if complete else "; ".join(messages)
    if not complete:
        import warnings

        warnings.warn(f"region enumeration incomplete ({msg}); the count is a lower bound.",
                      IterationLimitWarning, stacklevel=3)
    return RegionEnumeration(len(regions), complete, tuple(regions), G, counters.solves, counters.iterations,
                             seconds, method, domain.describe(), tuple(thin), stats, msg)


def _layer_stats(net: ReLUNetwork, regions: list[Region]) -> tuple[dict[str, Any], ...]:
    if not regions:
        return ()
    S = np.stack([r.pattern.signs for r in regions])
    offs = net.layer_offsets
    stats = []
    for l in range(net.n_hidden_layers):
        block = S[:, offs[l] : offs[l + 1]] > 0
        prefix = {row.tobytes() for row in S[:, : offs[l + 1]]}
        stats.append({
            "layer": l,
            "width": int(offs[l + 1] - offs[l]),
            "prefix_regions": len(prefix),
            "mean_active": float(block.sum(axis=1).mean()),
            "never_active": int(np.sum(~block.any(axis=0))),
            "always_active": int(np.sum(block.all(axis=0))),
        })
    return tuple(stats)


def count_regions(net: ReLUNetwork, *, box: Any = None, polytope: Any = None, whole_space: bool = False,
                  tol: Tolerances | None = None, n_jobs: int = 1) -> int:
    """The exact number of full-dimensional activation regions (see :func:`enumerate_regions`).

    >>> from lpengine import ReLUNetwork
    >>> count_regions(ReLUNetwork.random(2, [4], seed=1), whole_space=True)
    11
    """
    res = enumerate_regions(net, box=box, polytope=polytope, whole_space=whole_space, tol=tol, n_jobs=n_jobs,
                            compute_bounded=False)
    return res.count
