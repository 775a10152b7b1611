"""Results of a region enumeration: :class:`Region`, :class:`RegionEnumeration` and its graph.

The dual graph (:attr:`RegionEnumeration.graph`) has one node per region,
keyed ``str(pattern)``, with attributes ``index`` (position in
``regions``), ``margin`` (float) and ``n_active`` (int); one edge per shared
facet, with attributes ``units`` (comma-separated indices of the hidden units
whose hyperplane forms the facet) and ``n_units``.  Attributes are Python
str/int/float only, so GraphML and node-link JSON both round-trip.

:class:`RegionCollector` builds the regions and edges while the search runs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from .._display import fmt_num, html_card, short_repr
from ..lp.exact import RationalVector
from ..network import LocalAffineMap, ReLUNetwork
from .domain import Domain
from .outcome import RegionWork
from .pattern import ActivationPattern

__all__ = ["Region", "RegionEnumeration", "EnumerationProgress", "RegionCollector", "layer_stats"]


@dataclass(frozen=True, eq=False)
class Region:
    """One full-dimensional activation region (intersected with the domain).

    Attributes
    ----------
    pattern : ActivationPattern
    witness : ndarray, shape (n_in,)
        Interior point: the ball of radius ``margin`` around it lies in the region
        (in floats; for a thin region the exact witness is ``exact_witness``).
    margin : float
        Radius of that ball (``> tol.margin`` unless the region is ``thin``).
    affine : LocalAffineMap
        Pre-activations (and the output map, if the network has an output layer) on the region.
    facet_units : tuple of tuple of int
        For each facet between this region and a neighbour, the hidden units whose
        hyperplane forms it.
    n_facets : int
        All facets, domain faces included.
    bounded : bool or None
        Whether the region is bounded (always True in a bounded domain; decided by
        an LP in R^d; ``None`` if not computed or undecided).
    domain : Domain or None
        The enumeration's domain (shared by all regions; gives :attr:`vertices`).
    thin : bool
        The floats could not settle this region: its inscribed radius in floats is
        below ``tol.margin``, or its float LP gave no clean answer.  It was decided
        exactly instead: it is counted because its interior was proved nonempty in
        rational arithmetic (witness in ``exact_witness``), its neighbours come
        from every one-flip pattern (each decided exactly), and its edges in the
        graph are its facets decided exactly.  ``margin`` is then the float slack
        of the witness, which may be far below ``tol.margin`` (or 0).
    exact_witness : RationalVector or None
        An interior point checked in exact rational arithmetic, when floats alone
        did not certify ``witness``.
    """

    pattern: ActivationPattern
    witness: NDArray[np.float64]
    margin: float
    affine: LocalAffineMap
    facet_units: tuple[tuple[int, ...], ...]
    n_facets: int
    bounded: bool | None = None
    domain: Domain | None = field(default=None, repr=False)
    thin: bool = False
    exact_witness: RationalVector | None = None

    def __repr__(self) -> str:
        fields: list[tuple[str, Any]] = [
            ("pattern", str(self.pattern)),
            ("margin", self.margin),
            ("n_facets", self.n_facets),
            ("bounded", self.bounded),
        ]
        return short_repr("Region", [*fields, ("thin", True)] if self.thin else fields)

    @property
    def vertices(self) -> NDArray[np.float64]:
        """Vertices of the region (intersected with the domain), shape ``(n_vertices, n_in)``.

        Exact polygon corners for two inputs (counter-clockwise, see
        :mod:`lpengine.regions.polygons`), interval ends for one, Qhull's
        halfspace intersection above two.  Raises ``InvalidDomainError`` for an
        unbounded region, ``ValueError`` if the region carries no domain.
        """
        from .polygons import region_vertices

        if self.domain is None:
            raise ValueError("this region carries no domain; its vertices are not defined.")
        return region_vertices(self.affine, self.pattern.signs, self.domain, self.witness)

    @property
    def rank(self) -> int | None:
        """Rank of the output map on the region (``None`` without an output layer)."""
        return self.affine.rank

    @property
    def neighbors(self) -> tuple[ActivationPattern, ...]:
        """Patterns of the regions sharing a facet with this one."""
        return tuple(self.pattern.flip(u) for u in self.facet_units)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``pattern`` (its string form), ``witness``, ``margin``, ``n_facets``, ``bounded``, ``rank``, ``thin``."""
        return {
            "pattern": str(self.pattern),
            "witness": [float(v) for v in self.witness],
            "margin": float(self.margin),
            "n_facets": int(self.n_facets),
            "bounded": self.bounded,
            "rank": self.rank,
            "thin": self.thin,
        }


@dataclass(frozen=True)
class EnumerationProgress:
    """State passed to ``callback`` about once per region batch."""

    regions: int
    queued: int
    lp_solves: int
    seconds: float
    #: Processes doing region work (1 serially; the caller plus live workers when shared).
    workers: int = 1


@dataclass(frozen=True, eq=False)
class RegionEnumeration:
    """Result of :func:`enumerate_regions`.

    Attributes
    ----------
    count : int
        Number of activation regions found (regions with nonempty interior).  The
        exact count when ``complete``; otherwise a lower bound (``count_lower``).
    complete : bool
        True iff every pattern met was decided and the search ran to its end.
        False when a budget (``max_regions``, ``time_limit``, callback) stopped
        the search or a pattern stayed undecided: then the true count lies in
        ``[count_lower, count_upper]``.
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
        Counted regions that the floats could not settle and exact arithmetic
        decided (inscribed radius below ``tol.margin``, or no clean float LP
        answer; see :attr:`Region.thin`).
    undecided_patterns : tuple of str
        Patterns met but neither counted nor proved empty (empty when ``complete``).
    decisions : dict
        How the regions were decided: ``float_certified`` (floats proved the
        witness inside every row), ``exact_witness`` (the witness checked in
        rational arithmetic), ``exact_lp`` (decided by the exact LP),
        ``proved_empty`` (patterns met with a checked emptiness certificate),
        ``exact_rows`` (regions whose rows were composed in integers),
        ``seconds_exact``, ``exact_facets`` (facets decided exactly) and
        ``exact_crossings`` (shared facets whose far side was decided in integers).
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
    undecided_patterns: tuple[str, ...] = ()
    decisions: dict[str, Any] = field(default_factory=dict)
    #: With ``keep_regions=False``: ``n_bounded``, ``min_margin`` and ``shards`` (regions not kept); else empty.
    streamed: dict[str, Any] = field(default_factory=dict)

    @property
    def count_lower(self) -> int:
        """A lower bound on the number of regions (the exact count when ``complete``)."""
        return self.count

    @property
    def count_upper(self) -> int | None:
        """An upper bound on the number of regions: ``count`` when ``complete``, else ``None`` (unknown).

        A search stopped early (budget) or with undecided patterns may have
        regions behind them it never reached, so no finite bound is claimed.
        """
        return self.count if self.complete else None

    def interval(self) -> str:
        """The count as text: ``"42"`` when exact, ``"[42, ?]"`` when only a lower bound is known."""
        return str(self.count) if self.complete else f"[{self.count}, ?]"

    def __repr__(self) -> str:
        return short_repr(
            "RegionEnumeration",
            [("count", self.count), ("complete", self.complete), ("domain", self.domain), ("seconds", self.seconds)],
        )

    def _repr_html_(self) -> str:
        """Notebook view: the count and its status, the work, and a few regions."""
        status = "complete" if self.complete else f"INCOMPLETE ({self.message}): the count is a lower bound"
        facts: list[tuple[str, Any]] = [
            ("regions", self.count if self.complete else self.interval()),
            ("status", status),
            ("domain", self.domain),
            ("shared facets", len(self.edges)),
            ("work", f"{fmt_num(self.seconds, 3)} s, {self.lp_solves:,d} LPs, method {self.method}"),
        ]
        if self.thin_patterns:
            facts.append(("thin regions (counted; decided exactly, floats could not)", len(self.thin_patterns)))
        if self.undecided_patterns:
            facts.append(("undecided patterns", len(self.undecided_patterns)))
        rows = [
            (str(r.pattern), r.margin, r.n_facets, "-" if r.rank is None else str(r.rank)) for r in self.regions[:8]
        ]
        return html_card(
            "RegionEnumeration",
            facts,
            header=("pattern", "margin", "facets", "output rank"),
            rows=rows,
            total_rows=self.count,
        )

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
        if self.streamed:
            return self.streamed["n_bounded"]
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
            "count_lower": self.count_lower,
            "count_upper": self.count_upper,
            "thin_regions": len(self.thin_patterns),
            "undecided_patterns": len(self.undecided_patterns),
            "decisions": dict(self.decisions),
            "layer_stats": list(self.layer_stats),
            "min_margin": self.streamed["min_margin"]
            if self.streamed
            else min((r.margin for r in self.regions), default=None),
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

    def to_dict(self, *, regions: bool = False) -> dict[str, Any]:
        """JSON-ready: :meth:`summary`, and with ``regions=True`` also every region's :meth:`Region.to_dict`."""
        out = self.summary()
        if regions:
            out["region_list"] = [r.to_dict() for r in self.regions]
        return out


class RegionCollector:
    """The result's regions and shared facets, built while the search runs.

    Regions are added in the order they are finished (by this process or a
    worker); a shared facet becomes an edge as soon as both of its regions
    are in.  Building the result during the search lets the work sharing
    balance it against the region work, instead of leaving it to a serial
    tail after the search.
    """

    def __init__(self, widths: tuple[int, ...], domain: Domain | None = None) -> None:
        self.widths = widths
        self.domain = domain
        self.regions: list[Region] = []
        self.index: dict[bytes, int] = {}
        self.edges: dict[tuple[int, int], tuple[int, ...]] = {}
        # Facets that point at a pattern not (yet) in: pattern key -> [(region index, units)].
        self.waiting: dict[bytes, list[tuple[int, tuple[int, ...]]]] = {}

    def add(self, w: RegionWork) -> None:
        i = len(self.regions)
        pattern = ActivationPattern._trusted(w.signs, self.widths)
        units_list = tuple(w.facet_units)
        self.regions.append(
            Region(
                pattern,
                w.witness,
                w.margin,
                w.affine,
                units_list,
                w.n_facets,
                w.bounded,
                self.domain,
                thin=w.thin,
                exact_witness=w.exact_witness,
            )
        )
        key = pattern.key
        self.index[key] = i
        edges, index, waiting = self.edges, self.index, self.waiting
        # The facets recorded by earlier regions first: the units of an edge are those seen
        # from its lower-index end.
        for j, units in waiting.pop(key, ()):
            edges.setdefault((j, i), units)
        for b, units in zip(w.neighbor_keys, units_list, strict=True):
            k = index.get(b)
            if k is None:
                waiting.setdefault(b, []).append((i, units))
            else:
                edges.setdefault((k, i), units)

    def truncate(self, n: int) -> None:
        """Keep the first ``n`` regions (a ``max_regions`` budget) and the edges among them."""
        if len(self.regions) > n:
            del self.regions[n:]
            self.index = {k: i for k, i in self.index.items() if i < n}
            self.edges = {e: u for e, u in self.edges.items() if e[1] < n}


def layer_stats(net: ReLUNetwork, regions: list[Region]) -> tuple[dict[str, Any], ...]:
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
