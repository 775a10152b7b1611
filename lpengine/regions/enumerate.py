"""Exact enumeration of the activation regions of a ReLU network.

Algorithm (breadth-first search over the dual graph, ``region_counting.md`` §2.3):

1. Start from the region containing an interior point of the domain.
2. For each region ``S``, build its normalised rows (:func:`region_halfspaces`)
   and find its facets exactly:

   * bounded domains with ``n_in >= 2`` (method ``"vertex"``): Qhull computes
     the region's vertices from an interior point; a row is a facet iff the
     vertices on it span a (d-1)-dimensional set.  No LP is needed; the
     interior point for Qhull comes from the neighbour crossing (see below).
   * unbounded domains with ``n_in >= 2`` (method ``"hybrid"``): the vertex
     method on the region cut by a large artificial box ``B``.  Its facets on
     region rows are facets of the region; if none lies on ``B``'s boundary the
     region is inside ``B`` (bounded, no LP); otherwise only the rows not yet
     proved facets go to the LP method below.
   * otherwise (method ``"lp"``; n_in = 1, or as a fallback when Qhull
     refuses): one Chebyshev LP for the centre, ray shooting, and one LP per
     remaining candidate row.

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

Parallelism (``n_jobs > 1``, any domain): work sharing.  The calling process
keeps the breadth-first queue and the set of patterns seen, and processes
regions itself; ``n_jobs - 1`` worker processes (started once per call, as
soon as enough regions are pending; a small search stays serial) take
batches of pending regions, do all of the geometry (rows, facets,
certificate, neighbours) and send back each batch's regions with the
neighbours they found.  The result (regions, adjacency) is assembled while
the search runs, so nothing but a few statistics is left for after it.  Each
region is processed exactly once, so the parallel result equals the serial
one (same regions, same graph); only the order and the witnesses may differ.
A worker that dies mid-run (killed, out of memory) loses nothing: the
batches it had not answered go back into the queue, a ``RuntimeWarning``
says so, and the search finishes with the processes left.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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
    _is_bounded,
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
    edges : tuple of (int, int, tuple of int)
        Shared facets as ``(i, j, units)``: indices into ``regions`` (``i < j``)
        and the hidden units whose hyperplane forms the facet.
    graph : networkx.Graph
        Dual graph (built from ``edges`` on first access and cached): node
        ``str(pattern)`` with attributes ``index`` (position in ``regions``),
        ``margin``, ``n_active``; edge = shared facet, attributes ``units``
        (comma-separated flipped unit indices) and ``n_units``.
    lp_solves, lp_iterations : int
    seconds : float
        Wall time of the whole call (search and assembly of the result).
    method : str
        ``"vertex"``, ``"hybrid"`` or ``"lp"`` (see the module docstring).
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
    processes : int
        Processes that did region work: 1, or ``1 + n_jobs - 1`` once the
        search had enough pending regions to start the workers.
    """

    count: int
    complete: bool
    regions: tuple[Region, ...]
    edges: tuple[tuple[int, int, tuple[int, ...]], ...]
    lp_solves: int
    lp_iterations: int
    seconds: float
    method: str
    domain: str
    thin_patterns: tuple[str, ...]
    layer_stats: tuple[dict[str, Any], ...]
    message: str
    processes: int = 1

    @functools.cached_property
    def graph(self) -> nx.Graph:
        """The region adjacency graph (see the class docstring)."""
        G = nx.Graph()
        names = [str(r.pattern) for r in self.regions]
        n_active = (np.stack([r.pattern.signs for r in self.regions]) > 0).sum(axis=1).tolist() if self.regions else []
        G.add_nodes_from(
            (names[i], {"index": i, "margin": float(r.margin), "n_active": n_active[i]})
            for i, r in enumerate(self.regions)
        )
        G.add_edges_from(
            (names[i], names[j], {"units": ",".join(map(str, u)), "n_units": len(u)}) for i, j, u in self.edges
        )
        return G

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
            "edges": len(self.edges),
            "thin_regions_skipped": len(self.thin_patterns),
            "layer_stats": list(self.layer_stats),
            "min_margin": min((r.margin for r in self.regions), default=None),
            "message": self.message,
            "processes": self.processes,
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


@dataclass
class _Work:
    """One region processed by the search (picklable, sent back by workers)."""

    signs: NDArray[np.int8]
    witness: NDArray[np.float64]
    margin: float
    facet_units: list[tuple[int, ...]]
    neighbor_keys: list[bytes]
    n_facets: int
    bounded: bool | None
    affine: LocalAffineMap


class _Collector:
    """The result's regions and shared facets, built while the search runs.

    Regions are added in the order they are finished (by this process or a
    worker); a shared facet becomes an edge as soon as both of its regions
    are in.  Building the result during the search lets the work sharing
    balance it against the region work, instead of leaving it to a serial
    tail after the search.
    """

    def __init__(self, widths: tuple[int, ...]) -> None:
        self.widths = widths
        self.regions: list[Region] = []
        self.index: dict[bytes, int] = {}
        self.edges: dict[tuple[int, int], tuple[int, ...]] = {}
        # Facets that point at a pattern not (yet) in: pattern key -> [(region index, units)].
        self.waiting: dict[bytes, list[tuple[int, tuple[int, ...]]]] = {}

    def add(self, w: _Work) -> None:
        i = len(self.regions)
        pattern = ActivationPattern._trusted(w.signs, self.widths)
        units_list = tuple(w.facet_units)
        self.regions.append(Region(pattern, w.witness, w.margin, w.affine, units_list, w.n_facets, w.bounded))
        key = pattern.key
        self.index[key] = i
        edges, index, waiting = self.edges, self.index, self.waiting
        # The facets recorded by earlier regions first: the units of an edge are those seen
        # from its lower-index end.
        for j, units in waiting.pop(key, ()):
            edges.setdefault((j, i), units)
        for b, units in zip(w.neighbor_keys, units_list, strict=True):
            j = index.get(b)
            if j is None:
                waiting.setdefault(b, []).append((i, units))
            else:
                edges.setdefault((j, i), units)

    def truncate(self, n: int) -> None:
        """Keep the first ``n`` regions (a ``max_regions`` budget) and the edges among them."""
        if len(self.regions) > n:
            del self.regions[n:]
            self.index = {k: i for k, i in self.index.items() if i < n}
            self.edges = {e: u for e, u in self.edges.items() if e[1] < n}


@dataclass
class _SearchOut:
    collector: _Collector
    thin: list[NDArray[np.int8]] = field(default_factory=list)
    counters: LPCounters = field(default_factory=LPCounters)
    complete: bool = True
    message: str = "complete"
    method: str = "vertex"
    processes: int = 1


# A pending region: (signs, facet point or None, inward normal or None, suggested witness).
_Item = tuple[
    NDArray[np.int8], "NDArray[np.float64] | None", "NDArray[np.float64] | None", "NDArray[np.float64] | None"
]


def _start_point(
    net: ReLUNetwork, domain: Domain, tol: Tolerances, seed: int
) -> tuple[NDArray[np.float64], ActivationPattern]:
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


class _RegionProcessor:
    """Everything the search does for one pending region: rows, certificate, facets, neighbours.

    Shared by the serial search and the worker processes; holds no search
    state except the LP counters.
    """

    def __init__(self, net: ReLUNetwork, domain: Domain, tol: Tolerances, method: str, compute_bounded: bool) -> None:
        self.net, self.domain, self.tol, self.method = net, domain, tol, method
        self.compute_bounded = compute_bounded
        self.counters = LPCounters()
        if method == "hybrid":
            # The artificial box B = [-R, R]^d of the hybrid method (see _hybrid_facets).
            d = domain.dim
            W0, b0 = net.weights[0], net.biases[0]
            norms = np.linalg.norm(W0, axis=1)
            live = norms > tol.zero_row
            reach = float(np.max(np.abs(b0[live]) / norms[live])) if live.any() else 0.0
            R = _HYBRID_BOX * max(1.0, reach, float(np.max(np.abs(domain.center))))
            eye = np.eye(d)
            self.box_G = np.concatenate((eye, -eye))
            self.box_h = np.full(2 * d, R)

    def process(self, item: _Item) -> tuple[str, Any, list[_Item]]:
        """``("region", _Work, neighbours)``, ``("thin", signs, [])`` or ``("unresolved", (signs, status), [])``."""
        net, domain, tol = self.net, self.domain, self.tol
        signs, fpoint, fnormal, guess = item
        rows = region_halfspaces(net, signs, domain, tol)
        if not rows.consistent:
            return "thin", signs, []
        G, h = rows.G, rows.h
        facets: FacetInfo | None = None
        bounded: bool | None = True if domain.bounded else None
        use_vertex = self.method == "vertex" and domain.dim >= 2
        if self.method == "hybrid":
            facets, bounded, witness, margin = self._hybrid_facets(G, h, fpoint, fnormal, guess)
        else:
            witness, margin = _initial_witness(G, h, fpoint, fnormal, guess, tol)
            if use_vertex and margin > tol.margin:
                facets = facets_by_vertices(G, h, witness, tol)
        if facets is None:
            # LP path: Chebyshev centre (certificate and interior point), then facets.
            verdict = self._chebyshev(G, h, signs)
            if isinstance(verdict[0], str):
                return verdict[0], verdict[1], []
            witness, margin = verdict
            if use_vertex:
                facets = facets_by_vertices(G, h, witness, tol)
            if facets is None:
                facets = facets_by_lp(G, h, witness, tol, self.counters)
        if facets.vertices is not None:
            # Certificate: the vertex centroid, with its exact distance to every row.
            cen = facets.vertices.sum(axis=0) / facets.vertices.shape[0]
            m_cen = float((h - G @ cen).min())
            if m_cen > margin:
                witness, margin = cen, m_cen
        if margin <= tol.margin:
            verdict = self._chebyshev(G, h, signs)
            if isinstance(verdict[0], str):
                return verdict[0], verdict[1], []
            witness, margin = verdict
        # Units identically zero on this region (dead with value 0) may come alive across a
        # facet with their hyperplane lying on it; such units must flip with the facet.
        last_vanishing = -1
        if rows.dead.any():
            vanishing = np.flatnonzero(rows.dead & (np.abs(rows.c) <= tol.activation))
            last_vanishing = int(vanishing.max()) if vanishing.size else -1
        facet_units: list[tuple[int, ...]] = []
        neighbor_keys: list[bytes] = []
        neighbors: list[_Item] = []
        fin = np.isfinite(facets.points).all(axis=1)
        for rep, grp, pt, pt_ok in zip(facets.rows.tolist(), facets.groups, facets.points, fin.tolist(), strict=True):
            if grp.shape[0] == 1:
                u = int(rows.unit[rep])
                if u < 0:
                    continue  # a domain face: no neighbour inside
                flipped: tuple[int, ...] = (u,)
            else:
                units = rows.unit[grp]
                if np.any(units < 0):
                    continue  # a domain face with unit hyperplanes lying on it
                flipped = tuple(sorted(units.tolist()))
            nb = signs.copy()
            if len(flipped) == 1:
                nb[u] = -nb[u]
            else:
                nb[list(flipped)] *= -1
            if (len(flipped) > 1 or last_vanishing > flipped[0]) and pt_ok:
                # Degenerate crossing: several units share the facet (possibly in different
                # layers, the deeper ones depending on the shallower), or deeper units vanish
                # here and may come alive on the far side with their hyperplane on the facet.
                # Flipping the group is then not enough; the one-sided limit decides exactly.
                nb = pattern_toward(net, pt, G[rep], tol=tol)
                flipped = tuple(np.flatnonzero(nb != signs).tolist())
            facet_units.append(flipped)
            neighbor_keys.append(nb.tobytes())
            neighbors.append((nb, pt if pt_ok else None, G[rep], witness))
        if self.compute_bounded and bounded is None:
            bounded = _is_bounded(G, tol, self.counters)
        work = _Work(
            rows.signs.copy(),
            witness,
            margin,
            facet_units,
            neighbor_keys,
            int(len(facets.rows)),
            bounded,
            LocalAffineMap(rows.A, rows.c, rows.out_A, rows.out_c),
        )
        return "region", work, neighbors

    def _chebyshev(self, G: NDArray[np.float64], h: NDArray[np.float64], signs: NDArray[np.int8]) -> tuple[Any, Any]:
        """``(centre, radius)`` of the region's largest inscribed ball (capped at 1 in unbounded
        domains), or ``("thin", signs)`` / ``("unresolved", (signs, status))``."""
        center, radius, status = chebyshev_center(
            G, h, r_max=np.inf if self.domain.bounded else 1.0, tol=self.tol, solver=self.counters
        )
        if center is None and status is not LPStatus.INFEASIBLE:
            return "unresolved", (signs, status)
        if center is None or radius <= self.tol.margin:
            return "thin", signs
        return center, radius

    def _hybrid_facets(
        self,
        G: NDArray[np.float64],
        h: NDArray[np.float64],
        fpoint: NDArray[np.float64] | None,
        fnormal: NDArray[np.float64] | None,
        guess: NDArray[np.float64] | None,
    ) -> tuple[FacetInfo | None, bool | None, NDArray[np.float64], float]:
        """Facets of a region of an unbounded domain from the vertices of ``P ∩ B`` (B the artificial box).

        A facet of ``P ∩ B`` on a region row is a facet of ``P``.  If no facet of
        ``P ∩ B`` lies on a face of ``B``, then ``P ⊂ B`` (a convex body leaving
        ``B`` meets its boundary in a (d-1)-dimensional set), so ``P`` is bounded
        and its facets are exactly those: no LP.  Otherwise the facets found are
        kept and only the remaining rows go to :func:`facets_by_lp`.  Returns
        ``(facets or None, bounded or None, witness, margin)``; ``None`` facets
        send the caller to the LP path.
        """
        tol = self.tol
        m = G.shape[0]
        if m == 0:  # the whole domain is one region: the LP path handles it
            return None, None, np.zeros(G.shape[1]), -np.inf
        GB = np.concatenate((G, self.box_G))
        hB = np.concatenate((h, self.box_h))
        witness, marginB = _initial_witness(GB, hB, fpoint, fnormal, guess, tol)
        if marginB <= tol.margin:
            return None, None, witness, -np.inf
        fB = facets_by_vertices(GB, hB, witness, tol)
        if fB is None:
            return None, None, witness, -np.inf
        cen = fB.vertices.sum(axis=0) / fB.vertices.shape[0]
        m_w, m_c = float((h - G @ witness).min()), float((h - G @ cen).min())
        witness, margin = (cen, m_c) if m_c > m_w else (witness, m_w)
        inner = np.array([bool((grp < m).all()) for grp in fB.groups], dtype=bool)
        if inner.all():
            return FacetInfo(fB.rows, fB.groups, fB.points, fB.vertices), True, witness, margin
        if margin <= tol.margin:
            return None, None, witness, -np.inf
        known = (fB.rows[inner], fB.points[inner])
        return facets_by_lp(G, h, witness, tol, self.counters, known=known), None, witness, margin


class _Budget:
    """The stopping rules shared by the serial and the parallel search."""

    def __init__(
        self,
        max_regions: int | None,
        deadline: float | None,
        callback: Callable[[EnumerationProgress], bool | None] | None,
        t0: float,
    ) -> None:
        self.max_regions, self.deadline, self.callback, self.t0 = max_regions, deadline, callback, t0
        self.last_report = -np.inf  # the callback sees the first region at once, then about twice a second

    def stop_reason(self, n_regions: int, queued: int, lp_solves: int) -> str | None:
        if self.max_regions is not None and n_regions >= self.max_regions:
            return f"stopped at max_regions = {self.max_regions}"
        now = time.perf_counter()
        if self.deadline is not None and now > self.deadline:
            return "stopped at time_limit"
        if self.callback is not None and now - self.last_report > 0.5:
            self.last_report = now
            if self.callback(EnumerationProgress(n_regions, queued, lp_solves, now - self.t0)):
                return "stopped by callback"
        return None


def _record(out: _SearchOut, kind: str, payload: Any) -> bool:
    """Store one processed item in the result; True if it was a counted region."""
    if kind == "region":
        out.collector.add(payload)
        return True
    if kind == "thin":
        out.thin.append(payload)
    else:
        _unresolved(out, *payload)
    return False


def _enqueue_new(neighbors: list[_Item], seen: set[bytes], queue: Any) -> None:
    """Append the neighbours whose pattern is not in ``seen`` to ``queue`` (and mark them seen)."""
    for nb in neighbors:
        key = nb[0].tobytes()
        if key not in seen:
            seen.add(key)
            queue.append(nb)


def _search(
    net: ReLUNetwork,
    domain: Domain,
    tol: Tolerances,
    *,
    method: str,
    start: tuple[NDArray[np.float64], ActivationPattern],
    budget: _Budget,
    compute_bounded: bool,
) -> _SearchOut:
    """Serial breadth-first search over the dual graph inside ``domain``."""
    out = _SearchOut(_Collector(net.hidden_widths), method=method)
    proc = _RegionProcessor(net, domain, tol, method, compute_bounded)
    out.counters = proc.counters
    x0, p0 = start
    seen: set[bytes] = {p0.key}
    queue: deque[_Item] = deque([(np.array(p0.signs), None, None, x0)])
    n_regions = 0
    while queue:
        reason = budget.stop_reason(n_regions, len(queue), out.counters.solves)
        if reason is not None:
            out.complete, out.message = False, reason
            break
        kind, payload, neighbors = proc.process(queue.popleft())
        n_regions += _record(out, kind, payload)
        _enqueue_new(neighbors, seen, queue)
    return out


def _pack_items(items: list[_Item], d: int) -> tuple[NDArray[np.int8], NDArray[np.float64]]:
    """Pending regions as two arrays (one pickle each): signs, and [facet point | normal | witness] (nan = None)."""
    S = np.stack([it[0] for it in items])
    F = np.full((len(items), 3 * d), np.nan)
    for i, (_, pt, nrm, wit) in enumerate(items):
        if pt is not None:
            F[i, :d] = pt
        if nrm is not None:
            F[i, d : 2 * d] = nrm
        if wit is not None:
            F[i, 2 * d :] = wit
    return S, F


def _unpack_item(S: NDArray[np.int8], F: NDArray[np.float64], i: int, d: int) -> _Item:
    row = F[i]
    pt, nrm, wit = row[:d], row[d : 2 * d], row[2 * d :]
    return (
        S[i].copy(),
        None if np.isnan(pt[0]) else pt,
        None if np.isnan(nrm[0]) else nrm,
        None if np.isnan(wit[0]) else wit,
    )


def _pack_works(works: list[_Work]) -> dict[str, Any]:
    """The regions a worker found, as a few stacked arrays plus small lists (cheap to pickle)."""
    if not works:
        return {"n": 0}
    has_out = works[0].affine.out_A is not None
    return {
        "n": len(works),
        "signs": np.stack([w.signs for w in works]),
        "witness": np.stack([w.witness for w in works]),
        "margin": [w.margin for w in works],
        "facet_units": [w.facet_units for w in works],
        "neighbor_keys": [w.neighbor_keys for w in works],
        "n_facets": [w.n_facets for w in works],
        "bounded": [w.bounded for w in works],
        "A": np.stack([w.affine.A for w in works]),
        "c": np.stack([w.affine.c for w in works]),
        "out_A": np.stack([w.affine.out_A for w in works]) if has_out else None,
        "out_c": np.stack([w.affine.out_c for w in works]) if has_out else None,
    }


def _unpack_works(pk: dict[str, Any]) -> list[_Work]:
    out = []
    for i in range(pk["n"]):
        aff = LocalAffineMap(
            pk["A"][i],
            pk["c"][i],
            None if pk["out_A"] is None else pk["out_A"][i],
            None if pk["out_c"] is None else pk["out_c"][i],
        )
        out.append(
            _Work(
                pk["signs"][i],
                pk["witness"][i],
                pk["margin"][i],
                pk["facet_units"][i],
                pk["neighbor_keys"][i],
                pk["n_facets"][i],
                pk["bounded"][i],
                aff,
            )
        )
    return out


def _worker_main(
    conn: Any, net: ReLUNetwork, domain: Domain, tol: Tolerances, method: str, compute_bounded: bool
) -> None:
    """Worker process: process batches of pending regions until told to stop.

    The reply to a batch carries everything it produced: its regions
    (packed), its thin or unresolved patterns, its LP counters, and the
    neighbours this worker has not reported before (the master owns the
    global ``seen`` set).  Nothing is kept here, so a worker that dies loses
    only the batches it had not answered.
    """
    import signal

    # Ctrl-C in a terminal reaches the whole process group: the master decides what happens
    # (stop or abort) and tells the workers, so they ignore it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    d = domain.dim
    proc = _RegionProcessor(net, domain, tol, method, compute_bounded)
    reported: set[bytes] = set()
    while True:
        msg = conn.recv()
        if msg is None:
            conn.send(("done", None))
            return
        S, F = msg
        fresh: list[_Item] = []
        works: list[_Work] = []
        others: list[tuple[str, Any]] = []
        proc.counters = LPCounters()  # this batch's LPs
        try:
            for i in range(S.shape[0]):
                kind, payload, neighbors = proc.process(_unpack_item(S, F, i, d))
                if kind == "region":
                    works.append(payload)
                else:
                    others.append((kind, payload))
                _enqueue_new(neighbors, reported, fresh)
        except Exception as exc:  # noqa: BLE001 -- any error is handed to the master, which re-raises it
            conn.send(("error", exc))
            continue
        conn.send(("ok", (_pack_works(works), others, proc.counters, _pack_items(fresh, d) if fresh else None)))


def _parallel_search(
    net: ReLUNetwork,
    domain: Domain,
    tol: Tolerances,
    *,
    method: str,
    start: tuple[NDArray[np.float64], ActivationPattern],
    budget: _Budget,
    compute_bounded: bool,
    n_jobs: int,
) -> _SearchOut:
    """Breadth-first search with the region work shared among ``n_jobs`` processes.

    This process (the master) holds the queue and the ``seen`` set, hands
    batches of pending regions to ``n_jobs - 1`` worker processes and works
    through the queue itself in between; each worker reply brings the batch's
    regions and new neighbours.  Every region is processed exactly once, so
    the result equals the serial search's up to the order of regions and the
    witnesses.  A worker that dies (killed, out of memory) costs nothing but
    time: its unanswered batches go back into the queue and the search goes
    on without it (with a warning).
    """
    import multiprocessing as mp
    from multiprocessing.connection import wait

    d = domain.dim
    out = _SearchOut(_Collector(net.hidden_widths), method=method)
    proc = _RegionProcessor(net, domain, tol, method, compute_bounded)
    out.counters = proc.counters
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    procs: list[Any] = []
    sent: dict[Any, deque[list[_Item]]] = {}  # live worker connection -> its unanswered batches
    x0, p0 = start
    seen: set[bytes] = {p0.key}
    queue: deque[_Item] = deque([(np.array(p0.signs), None, None, x0)])
    n_regions = 0
    stopping = False
    error: BaseException | None = None

    def start_workers() -> None:
        for _ in range(n_jobs - 1):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=_worker_main, args=(child, net, domain, tol, method, compute_bounded), daemon=True)
            p.start()
            child.close()
            procs.append(p)
            sent[parent] = deque()

    def take(body: Any) -> int:
        """Merge a worker's answer to one batch into the result; the number of regions in it."""
        packed_works, others, counters, packed = body
        for w in _unpack_works(packed_works):
            out.collector.add(w)
        for kind, payload in others:
            _record(out, kind, payload)
        out.counters.merge(counters)
        if packed is not None and not stopping:
            S, F = packed
            for i in range(S.shape[0]):
                key = S[i].tobytes()
                if key not in seen:
                    seen.add(key)
                    queue.append(_unpack_item(S, F, i, d))
        return int(packed_works["n"])

    def lose(c: Any) -> None:
        """A worker is gone: its unanswered batches go back to the front of the queue."""
        lost = sent.pop(c)
        for batch in reversed(lost):
            queue.extendleft(reversed(batch))
        c.close()
        import warnings

        n_lost = sum(len(b) for b in lost)
        warnings.warn(
            f"a worker process of the region enumeration ended unexpectedly; its {n_lost} unfinished "
            f"region(s) were re-queued and the search goes on with {len(sent)} worker(s) left.",
            RuntimeWarning,
            stacklevel=4,
        )

    try:
        while True:
            if not stopping:
                reason = budget.stop_reason(n_regions, len(queue), out.counters.solves)
                if reason is not None:
                    stopping = True
                    out.complete, out.message = False, reason
            if not procs and not stopping and len(queue) >= _START_WORKERS_AT:
                start_workers()  # lazily: a search that never has this much pending work stays serial
            if not stopping:
                # Keep two batches in flight per worker (batches grow with the queue), then take a
                # few regions for this process.
                for c in list(sent):
                    while len(sent[c]) < 2 and len(queue) > _MASTER_CHUNK:
                        size = max(1, min(_MAX_BATCH, (len(queue) - _MASTER_CHUNK) // (2 * n_jobs)))
                        batch = [queue.popleft() for _ in range(size)]
                        sent[c].append(batch)
                        try:
                            c.send(_pack_items(batch, d))
                        except OSError:
                            lose(c)
                            break
                for _ in range(min(_MASTER_CHUNK, len(queue))):
                    kind, payload, neighbors = proc.process(queue.popleft())
                    n_regions += _record(out, kind, payload)
                    _enqueue_new(neighbors, seen, queue)
            busy = [c for c in sent if sent[c]]
            if not busy:
                if stopping or not queue:
                    break
                continue
            if queue and not stopping:
                ready = [c for c in busy if c.poll()]  # no selector set-up on the hot path
            else:
                ready = wait(busy, timeout=0.5)
            for c in ready:
                try:
                    status, body = c.recv()
                except (EOFError, OSError):
                    lose(c)
                    continue
                sent[c].popleft()
                if status == "error":
                    error, stopping = body, True
                else:
                    n_regions += take(body)
        if queue and out.complete:
            out.complete, out.message = False, "stopped with regions still queued"
    finally:
        for c in sent:
            try:
                c.send(None)
                status, body = c.recv()
                while status != "done":  # the answer to a batch sent before the search stopped
                    if status == "ok":
                        take(body)
                    status, body = c.recv()
            except (OSError, EOFError):
                pass
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
    if error is not None:
        raise error
    if budget.max_regions is not None:
        out.collector.truncate(budget.max_regions)
    out.processes = 1 + len(procs)
    return out


# Regions the master processes itself between two looks at the workers' replies.
_MASTER_CHUNK = 4

# The workers are started once this many regions are pending (small searches stay serial:
# starting a process costs about as much as processing a dozen regions).
_START_WORKERS_AT = 16

# Half-width of the hybrid method's artificial box, in units of the largest distance of a first-layer
# hyperplane from the origin (a speed knob: regions leaving the box get LPs; never a correctness one).
_HYBRID_BOX = 10.0

# Largest batch of pending regions handed to a worker at once (a latency/overhead trade-off).
_MAX_BATCH = 32


def _unresolved(out: _SearchOut, signs: NDArray[np.int8], status: LPStatus) -> None:
    """An LP gave no usable answer for a pattern: never guess, mark the result incomplete."""
    out.complete = False
    out.message = f"a region LP ended with status {status.value}; the count is a lower bound"
    logger.warning("region LP for pattern %s ended with status %s", signs.tolist(), status.value)


# The interior point handed to Qhull is centred by axis chords only when its margin is
# below this fraction of the push from the facet (a numerical-quality knob, not a tolerance:
# correctness never depends on it).
_CENTRE_BELOW = 0.05


def _initial_witness(
    G: NDArray[np.float64],
    h: NDArray[np.float64],
    fpoint: NDArray[np.float64] | None,
    fnormal: NDArray[np.float64] | None,
    guess: NDArray[np.float64] | None,
    tol: Tolerances,
) -> tuple[NDArray[np.float64], float]:
    """An interior point: the shared facet's centre pushed halfway across this region.

    ``fnormal`` points from the parent into this region.  Along it, the first
    row (other than the facet's own, which is at zero slack and increasing)
    to be hit bounds the step; the point halfway has positive margin.  Two
    axis-chord centring passes improve the margin when it is poor.
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
    margin = float(slack.min())
    if 0 < margin < _CENTRE_BELOW * float(np.abs(x - fpoint).max() if fpoint is not None else 1.0):
        # A poorly centred point (a row close by): axis-chord centring, cheap and safe.
        x, slack = _center_by_chords(G, x, slack, tol)
        margin = float(slack.min())
    return x, margin


def _center_by_chords(
    G: NDArray[np.float64], x: NDArray[np.float64], slack: NDArray[np.float64], tol: Tolerances, passes: int = 2
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
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
    method : {"auto", "vertex", "hybrid", "lp"}
        ``"vertex"``: Qhull vertex-based facets (bounded domains, n_in >= 2);
        ``"hybrid"`` (unbounded domains, n_in >= 2): vertices of the region cut
        by a large artificial box, LPs only for regions that leave the box;
        ``"lp"``: one LP per candidate facet; ``"auto"`` picks the first that
        applies.
    tol : Tolerances, optional
    max_regions : int, optional
        Stop after this many regions (``complete=False``).
    time_limit : float, optional
        Stop after this many seconds (``complete=False``).
    callback : callable, optional
        ``callback(EnumerationProgress) -> bool | None`` about twice a second;
        returning True stops the search (``complete=False``).
    n_jobs : int
        Processes sharing the region work (see the module docstring); ``1``
        runs in this process.  The workers start once 16 regions are pending,
        so tiny searches stay serial (``RegionEnumeration.processes`` says how
        many took part); worth it from a few hundred regions on.
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
    if method not in ("auto", "vertex", "hybrid", "lp"):
        raise ValueError(f"The 'method' parameter must be 'auto', 'vertex', 'hybrid' or 'lp'. Got {method!r} instead.")
    if max_regions is not None:
        max_regions = check_int(max_regions, "max_regions", low=1)
    if time_limit is not None:
        time_limit = check_scalar(time_limit, "time_limit", low=0.0)
    n_jobs = check_int(n_jobs, "n_jobs", low=1)
    dom_kw = {"box": box, "polytope": polytope, "whole_space": whole_space}
    domain = make_domain(net.n_in, tol=t, **dom_kw)
    if method == "auto":
        method = "lp" if net.n_in < 2 else "vertex" if domain.bounded else "hybrid"
    elif method == "vertex" and not domain.bounded:
        raise InvalidDomainError("method='vertex' needs a bounded domain; use method='hybrid', 'lp' or 'auto'.")
    elif method == "hybrid" and (domain.bounded or net.n_in < 2):
        raise InvalidDomainError("method='hybrid' is for unbounded domains with n_in >= 2; use 'vertex' or 'auto'.")
    if compute_bounded is None:
        compute_bounded = not domain.bounded
    t0 = time.perf_counter()
    budget = _Budget(max_regions, None if time_limit is None else t0 + time_limit, callback, t0)
    start = _start_point(net, domain, t, seed)
    if n_jobs > 1:
        out = _parallel_search(
            net, domain, t, method=method, start=start, budget=budget, compute_bounded=compute_bounded, n_jobs=n_jobs
        )
    else:
        out = _search(net, domain, t, method=method, start=start, budget=budget, compute_bounded=compute_bounded)
    return _assemble(net, domain, out, method, t0)


def _assemble(net: ReLUNetwork, domain: Domain, out: _SearchOut, method: str, t0: float) -> RegionEnumeration:
    widths = net.hidden_widths
    # Every pattern is processed once (serial or shared), so the collected regions are distinct.
    regions, edges = out.collector.regions, out.collector.edges
    found = out.collector.index
    thin = sorted({str(ActivationPattern(s, widths)) for s in out.thin if s.tobytes() not in found})
    stats = _layer_stats(net, regions)
    if not out.complete:
        import warnings

        warnings.warn(
            f"region enumeration incomplete ({out.message}); the count is a lower bound.",
            IterationLimitWarning,
            stacklevel=3,
        )
    return RegionEnumeration(
        len(regions),
        out.complete,
        tuple(regions),
        tuple((i, j, u) for (i, j), u in edges.items()),
        out.counters.solves,
        out.counters.iterations,
        time.perf_counter() - t0,
        method,
        domain.describe(),
        tuple(thin),
        stats,
        out.message,
        out.processes,
    )


def _layer_stats(net: ReLUNetwork, regions: list[Region]) -> tuple[dict[str, Any], ...]:
    if not regions:
        return ()
    S = np.stack([r.pattern.signs for r in regions])
    offs = net.layer_offsets
    stats = []
    for l in range(net.n_hidden_layers):
        block = S[:, offs[l] : offs[l + 1]] > 0
        prefix = {row.tobytes() for row in S[:, : offs[l + 1]]}
        stats.append(
            {
                "layer": l,
                "width": int(offs[l + 1] - offs[l]),
                "prefix_regions": len(prefix),
                "mean_active": float(block.sum(axis=1).mean()),
                "never_active": int(np.sum(~block.any(axis=0))),
                "always_active": int(np.sum(block.all(axis=0))),
            }
        )
    return tuple(stats)


def count_regions(
    net: ReLUNetwork,
    *,
    box: Any = None,
    polytope: Any = None,
    whole_space: bool = False,
    tol: Tolerances | None = None,
    n_jobs: int = 1,
) -> int:
    """The exact number of full-dimensional activation regions (see :func:`enumerate_regions`).

    >>> from lpengine import ReLUNetwork
    >>> count_regions(ReLUNetwork.random(2, [4], seed=1), whole_space=True)
    11
    """
    res = enumerate_regions(
        net, box=box, polytope=polytope, whole_space=whole_space, tol=tol, n_jobs=n_jobs, compute_bounded=False
    )
    return res.count
