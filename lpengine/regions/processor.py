"""The per-region geometry of the search: rows, interior point, certificate, facets, neighbours.

:class:`RegionProcessor` turns one :class:`~.outcome.PendingRegion` into a
:class:`~.outcome.Processed` outcome (counted, not counted, or unresolved)
plus the neighbouring patterns across its facets.  It holds no search state
(only LP counters), so the serial search and every worker process run the
same code.  Facets are found by one of three methods (see
:mod:`lpengine.regions.enumerate`): ``"vertex"``, ``"hybrid"`` or ``"lp"``;
interior points (float witnesses) come from :mod:`lpengine.regions.witness`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from ..lp import LPCounters
from ..network import LocalAffineMap, ReLUNetwork
from ..tolerances import Tolerances
from .certify import CertifiedRows, Certifier
from .coincidence import ExactCoincidence
from .crossing import cross_facet, facet_rows
from .domain import Domain, is_bounded
from .exact import StrictDecision
from .outcome import Counted, NotCounted, PendingRegion, Processed, RegionWork
from .polar import PolarFacets, facets_by_polar
from .polar_proofs import certify_polar_many
from .polytope import FacetInfo, facets_by_lp, facets_by_vertices
from .witness import Ball, center_by_chords, chebyshev_ball, initial_witness

__all__ = [
    "BATCH",
    "RegionProcessor",
    # Re-exported from .witness, where they moved (older imports keep working).
    "Ball",
    "initial_witness",
    "center_by_chords",
]

# Half-width of the hybrid method's artificial box, in units of the largest distance of a first-layer
# hyperplane from the origin (a speed knob: regions leaving the box get LPs; never a correctness one).
_HYBRID_BOX = 10.0


@dataclass(slots=True)
class _Geometry:
    """A region between :meth:`RegionProcessor._geometry` and :meth:`~RegionProcessor._finish`.

    ``facets`` ``None`` with ``polar`` ``None`` means the LP path; ``polar`` set means the
    polar hull's answers still wait for their certificates (``facets``, ``bounded`` then
    come from :func:`~.polar_proofs.certify_polar_many`).
    """

    cr: CertifiedRows
    facets: FacetInfo | None
    bounded: bool | None
    witness: NDArray[np.float64]
    margin: float
    polar: PolarFacets | None = None


_NONE = np.zeros(0, dtype=np.intp)
_NONE.flags.writeable = False


def _flipped(signs: NDArray[np.int8], u: int) -> NDArray[np.int8]:
    nb = signs.copy()
    nb[u] = -nb[u]
    return nb


# Pending regions per process_batch call in every search (serial, work sharing, Dask partitions): enough to
# amortise the per-call numpy work of the batched certificates; larger batches cost more (the shifted
# certificates' weight matrix grows with the square of the batch: 128 ran 21 % slower than 32 on a deep R^4
# net).  A speed knob only: the regions, their order and every decision are those of one region at a time.
BATCH = 32


class RegionProcessor:
    """Everything the search does for one pending region: rows, certificate, facets, neighbours.

    Shared by the serial search and the worker processes; holds no search
    state except the LP counters.
    """

    def __init__(
        self,
        net: ReLUNetwork,
        domain: Domain,
        tol: Tolerances,
        method: str,
        compute_bounded: bool,
        backend: Any = "highs",
    ) -> None:
        self.net, self.domain, self.tol, self.method = net, domain, tol, method
        self.compute_bounded = compute_bounded
        self.backend = backend
        self.counters = LPCounters()
        self.cert = Certifier(net, domain, tol, backend)
        self.polar_hulls = 0  # regions whose facets came from the polar hull
        # For each hidden unit, the index of the first unit of the next layer: vanishing units before it
        # depend on no unit of this one, so they cannot change across its facet.
        offs = net.layer_offsets
        self._next_layer = [offs[l + 1] for l in range(len(offs) - 1) for _ in range(offs[l], offs[l + 1])]
        if method == "hybrid":
            # The artificial box B = [-R, R]^d of the hybrid method (see _hybrid_facets).
            d = domain.dim
            W0, b0 = net.weights[0], net.biases[0]
            norms = np.linalg.norm(W0, axis=1)
            live = norms > 0
            reach = float(np.max(np.abs(b0[live]) / norms[live])) if live.any() else 0.0
            R = _HYBRID_BOX * max(1.0, reach, float(np.max(np.abs(domain.center))))
            eye = np.eye(d)
            self.box_G = np.concatenate((eye, -eye))
            self.box_h = np.full(2 * d, R)

    def process(self, item: PendingRegion) -> Processed:
        """Decide one pending region exactly and find its neighbours (none unless it is counted)."""
        return self.process_batch((item,))[0]

    def process_batch(self, items: Sequence[PendingRegion]) -> list[Processed]:
        """:meth:`process` for several pending regions, in order; the same outcomes, cheaper per region.

        Each region is processed on its own, except that the polar-hull certificates of
        all the regions that need them (:func:`~.polar_proofs.certify_polar_many`) are asked for in
        one call, so their numpy work is batched.  No region's outcome depends on another's.
        """
        staged = [self._geometry(item) for item in items]
        waiting = [g for g in staged if isinstance(g, _Geometry) and g.polar is not None]
        if waiting:
            jobs = [(g.polar, g.cr.rows.G, g.cr.rows.h, g.cr.row_errors()) for g in waiting if g.polar is not None]
            answers = certify_polar_many(jobs, want_bounded=self.compute_bounded)
            for g, (facets, bounded) in zip(waiting, answers, strict=True):
                g.facets, g.bounded, g.polar = facets, bounded, None
        return [g if isinstance(g, Processed) else self._finish(item, g) for item, g in zip(items, staged, strict=True)]

    def _geometry(self, item: PendingRegion) -> Processed | _Geometry:
        """The region's rows, an interior point and its facets, as far as one region goes.

        A pattern whose exact rows are inconsistent is answered at once; a polar-hull
        region that needs certificates comes back with ``polar`` set (``facets`` unset).
        """
        signs = item.signs
        cr = self.cert.rows(signs)
        if not cr.rows.consistent:
            # A dead unit's exact constant sign contradicts the pattern: no region.
            self.cert.stats.proved_empty += 1
            return Processed(NotCounted(signs))
        if self.method == "hybrid":
            return self._hybrid_facets(cr, item.facet_point, item.normal, item.guess, cr.same_hyperplane)
        rows = cr.rows
        witness, margin = initial_witness(rows.G, rows.h, item.facet_point, item.normal, item.guess, self.tol)
        facets: FacetInfo | None = None
        if self.method == "vertex" and self.domain.dim >= 2 and margin > self.tol.margin:
            facets = facets_by_vertices(rows.G, rows.h, witness, self.tol, same=cr.same_hyperplane)
        return _Geometry(cr, facets, True if self.domain.bounded else None, witness, margin)

    def _finish(self, item: PendingRegion, geo: _Geometry) -> Processed:
        """The rest of :meth:`process`: certificate of the witness, neighbours, the region's record."""
        domain, tol = self.domain, self.tol
        cr, facets, bounded, witness, margin = geo.cr, geo.facets, geo.bounded, geo.witness, geo.margin
        signs = item.signs
        rows = cr.rows
        G, h = rows.G, rows.h
        use_vertex = self.method == "vertex" and domain.dim >= 2
        same = cr.same_hyperplane
        slack_min: float | None = None  # fl(h - G witness).min() once known for the final witness
        if facets is None:
            # LP path: Chebyshev centre (certificate and interior point), then facets.
            ball = self._chebyshev(G, h)
            if ball.radius <= tol.margin:
                return self._borderline(cr, ball.center if ball.center is not None else witness)
            assert ball.center is not None
            witness, margin = ball.center, ball.radius
            if use_vertex:
                facets = facets_by_vertices(G, h, witness, tol, same=same)
            if facets is None:
                errors = None if domain.bounded else cr.row_errors()
                facets = facets_by_lp(G, h, witness, tol, self.counters, backend=self.backend, same=same, errors=errors)
        if facets.vertices is not None and facets.vertices.shape[0] > 0:
            # Certificate: the vertex centroid, with its exact distance to every row (an unbounded region
            # may have no vertex: nothing to average).
            cen = facets.vertices.sum(axis=0) / facets.vertices.shape[0]
            m_cen = float((h - G @ cen).min())
            if m_cen > margin:
                witness, margin = cen, m_cen
                slack_min = m_cen
        if margin <= tol.margin:
            ball = self._chebyshev(G, h)
            if ball.radius <= tol.margin:
                return self._borderline(cr, ball.center if ball.center is not None else witness)
            assert ball.center is not None
            witness, margin = ball.center, ball.radius
            slack_min = None
        exact_witness = None
        if slack_min is None:
            # The float distance to the nearest row, computed as fl(h - G x) (the form witness_certain's
            # error bound covers: an LP's radius carries its own tolerance, and initial_witness updates
            # its slacks along the step).  The centroid's m_cen above is already of that form.
            slack_min = float((h - G @ witness).min()) if G.shape[0] else float("inf")
        if cr.witness_certain(witness, slack_min):
            self.cert.stats.float_certified += 1
        else:
            dec = self.cert.decide(cr, witness)
            if not dec.nonempty:
                return Processed(NotCounted(signs))
            if dec.method != "hint":
                # The float witness is not inside the exact region: the float geometry (facets
                # included) is not the region's; cross it like a thin one.
                return self._borderline(cr, None, dec)
            assert dec.point is not None
            exact_witness = dec.point
        # Units identically zero on this region (dead with value 0) may come alive across a
        # facet with their hyperplane lying on it; such units must flip with the facet.
        vanishing = np.flatnonzero(rows.dead & (rows.c == 0.0)) if rows.dead.any() else _NONE
        last_vanishing = int(vanishing[-1]) if vanishing.size else -1
        facet_units: list[tuple[int, ...]] = []
        neighbor_keys: list[bytes] = []
        neighbors: list[PendingRegion] = []
        points: Sequence[NDArray[np.float64] | None] = cast("Sequence[NDArray[np.float64]]", facets.points)
        if not np.isfinite(facets.points).all():  # facet points unknown (nan rows): hand over none for those
            ok = cast("list[bool]", np.isfinite(facets.points).all(axis=1).tolist())
            points = [pt if k else None for pt, k in zip(facets.points, ok, strict=True)]
        for rep, grp, pt in zip(facets.rows.tolist(), facets.groups, points, strict=True):
            if grp.shape[0] == 1:
                u = int(rows.unit[rep])
                if u < 0:
                    continue  # a domain face: no neighbour inside
                if last_vanishing < self._next_layer[u]:
                    nb = signs.copy()
                    nb[u] = -nb[u]
                    facet_units.append((u,))
                    neighbor_keys.append(nb.tobytes())
                    neighbors.append(PendingRegion(nb, pt, G[rep], witness))
                    continue
            # Degenerate crossing: several units share the facet (possibly in different layers,
            # the deeper ones depending on the shallower), or deeper units vanish here and may
            # come alive on the far side with their hyperplane on the facet.  Every row on the
            # facet's hyperplane is found exactly, then the one-sided limit decides the far side.
            grp = facet_rows(cr, rep, grp)
            units = rows.unit[grp]
            if np.any(units < 0):
                continue  # a domain face with unit hyperplanes lying on it
            nb = self._cross(cr, units, vanishing, G[rep])
            flipped = tuple(np.flatnonzero(nb != signs).tolist())
            facet_units.append(flipped)
            neighbor_keys.append(nb.tobytes())
            neighbors.append(PendingRegion(nb, pt, G[rep], witness))
        # Rows whose facet decision the floats could not make clearly: their one-flip patterns
        # are searched too (each decided exactly), so no region behind them is lost; the exact
        # facets among them give edges.
        border = [k for k in facets.borderline.tolist() if int(rows.unit[k]) >= 0] if facets.borderline.size else []
        for k in border:
            neighbors.append(PendingRegion(self.cert.canonical(_flipped(signs, int(rows.unit[k]))), guess=witness))
        if border:
            more_units, more_keys, more = self._exact_edges(cr, border, witness)
            facet_units += more_units
            neighbor_keys += more_keys
            neighbors += more
        if self.compute_bounded and bounded is None:
            bounded = is_bounded(G, tol, self.counters, backend=self.backend, errors=cr.row_errors())
        work = RegionWork(
            rows.signs.copy(),
            witness,
            margin,
            facet_units,
            neighbor_keys,
            int(len(facets.rows)),
            bounded,
            cr.affine if cr.affine is not None else LocalAffineMap(rows.A, rows.c, rows.out_A, rows.out_c),
            exact_witness=exact_witness,
        )
        return Processed(Counted(work), tuple(neighbors))

    def _borderline(
        self, cr: CertifiedRows, hint: NDArray[np.float64] | None, dec: StrictDecision | None = None
    ) -> Processed:
        """A region the floats call thinner than ``tol.margin`` (or could not solve): decided exactly.

        Nonempty: counted and flagged ``thin``, with the exactly checked witness; its
        facets are not trusted to floats, so every live unit's one-flip pattern is
        searched (each decided exactly), and its edges are its exact facets
        (:meth:`_exact_edges`).  Empty: not counted (a checked Farkas certificate).
        """
        signs = cr.signs
        if dec is None:
            dec = self.cert.decide(cr, hint)
        if not dec.nonempty:
            return Processed(NotCounted(signs))
        assert dec.point is not None
        witness = dec.point.to_float()
        rows = cr.rows
        margin = float(np.min(rows.h - rows.G @ witness)) if rows.G.shape[0] else float("inf")
        neighbors = [
            PendingRegion(self.cert.canonical(_flipped(signs, int(u))), guess=witness)
            for u in rows.unit[rows.unit >= 0].tolist()
        ]
        facet_units, neighbor_keys, more = self._exact_edges(cr, np.flatnonzero(rows.unit >= 0).tolist(), witness)
        neighbors += more
        bounded: bool | None = True if self.domain.bounded else None
        if self.compute_bounded and bounded is None:
            bounded = is_bounded(rows.G, self.tol, self.counters, backend=self.backend, errors=cr.row_errors())
        work = RegionWork(
            rows.signs.copy(),
            witness,
            max(margin, 0.0),
            facet_units,
            neighbor_keys,
            len(facet_units),
            bounded,
            LocalAffineMap(rows.A, rows.c, rows.out_A, rows.out_c),
            thin=True,
            exact_witness=dec.point,
        )
        return Processed(Counted(work), tuple(neighbors))

    def _exact_edges(
        self, cr: CertifiedRows, candidates: list[int], witness: NDArray[np.float64]
    ) -> tuple[list[tuple[int, ...]], list[bytes], list[PendingRegion]]:
        """The exact facets among ``candidates`` (row indices): their units, neighbour keys and neighbours.

        Each row is decided by :meth:`Certifier.facet`; exactly coincident rows form one
        facet (decided once); a facet on a domain face has no neighbour.  The neighbour
        flips the facet's units, or, when several units share it or deeper units vanish
        on it, is read off the one-sided limit across the facet's exact point.
        """
        rows = cr.rows
        units_out: list[tuple[int, ...]] = []
        keys: list[bytes] = []
        out: list[PendingRegion] = []
        done: set[int] = set()
        vanishing = np.flatnonzero(rows.dead & (rows.c == 0.0)) if rows.dead.any() else _NONE
        for k in candidates:
            if k in done:
                continue
            fac = self.cert.facet(cr, k)
            if fac is None:
                continue
            done.update(fac.rows)
            units = rows.unit[list(fac.rows)]
            if np.any(units < 0):
                continue
            point = fac.point.to_float()
            if units.shape[0] > 1 or (vanishing.size and int(vanishing[-1]) >= self._next_layer[int(units[0])]):
                nb = self._cross(cr, units, vanishing, rows.G[k])
            else:
                nb = _flipped(cr.signs, int(units[0]))
            nb = self.cert.canonical(nb)
            flipped = tuple(np.flatnonzero(nb != cr.signs).tolist())
            units_out.append(flipped)
            keys.append(nb.tobytes())
            out.append(PendingRegion(nb, point, rows.G[k], witness))
        return units_out, keys, out

    def _cross(
        self, cr: CertifiedRows, units: NDArray[np.intp], vanishing: NDArray[np.intp], normal: NDArray[np.float64]
    ) -> NDArray[np.int8]:
        """The pattern across a facet carrying ``units``, the region's ``vanishing`` units zero on it too.

        Vanishing units no deeper than the facet's first layer depend on no unit that
        changes: they stay identically zero (inactive) and are left out.  The rest
        go to :func:`~.crossing.cross_facet`.
        """
        after = self._next_layer[int(units.min())]
        zero = np.union1d(units, vanishing[vanishing >= after]).astype(np.intp)
        nb, exact = cross_facet(self.net, cr.signs, zero, normal, lambda: self.cert.exact_net)
        if exact:
            self.cert.stats.exact_crossings += 1
        return nb

    def _chebyshev(self, G: NDArray[np.float64], h: NDArray[np.float64]) -> Ball:
        """The region's largest inscribed ball in floats (:func:`~.witness.chebyshev_ball`)."""
        return chebyshev_ball(
            G, h, bounded=self.domain.bounded, tol=self.tol, counters=self.counters, backend=self.backend
        )

    def _hybrid_facets(
        self,
        cr: CertifiedRows,
        fpoint: NDArray[np.float64] | None,
        fnormal: NDArray[np.float64] | None,
        guess: NDArray[np.float64] | None,
        same: ExactCoincidence,
    ) -> _Geometry:
        """Facets of a region of an unbounded domain: its polar hull, else the vertices of ``P ∩ B`` (B the artificial box).

        A facet of ``P ∩ B`` on a region row is a facet of ``P``.  If no facet of
        ``P ∩ B`` lies on a face of ``B``, then ``P ⊂ B`` (a convex body leaving
        ``B`` meets its boundary in a (d-1)-dimensional set), so ``P`` is bounded
        and its facets are exactly those: no LP.  Otherwise the facets found are
        kept and only the remaining rows go to :func:`facets_by_lp`.  ``None`` facets
        (and no ``polar``) send :meth:`_finish` to the LP path; a polar hull outside the
        artificial box comes back as ``polar``, for :func:`~.polar_proofs.certify_polar_many`.
        """
        tol = self.tol
        G, h = cr.rows.G, cr.rows.h
        m = G.shape[0]
        if m == 0:  # the whole domain is one region: the LP path handles it
            return _Geometry(cr, None, None, np.zeros(G.shape[1]), -np.inf)
        # First the polar hull of the region itself: facets, vertices and boundedness, no LP.
        witness, margin = initial_witness(G, h, fpoint, fnormal, guess, tol)
        if margin > tol.margin:
            pf = facets_by_polar(G, h, witness, tol, same=same)
            if pf is not None:
                self.polar_hulls += 1
                V = pf.facets.vertices
                if pf.bounded is True and V is not None and float(np.abs(V).max()) < self.box_h[0]:
                    # Inside the artificial box: trusted as the box method trusts such regions
                    # (floats within tol.margin, borderline rows searched exactly).
                    return _Geometry(cr, pf.facets, True, witness, margin)
                return _Geometry(cr, None, None, witness, margin, pf)
        # The region contains a line (or Qhull refused): its vertices inside the artificial box.
        GB = np.concatenate((G, self.box_G))
        hB = np.concatenate((h, self.box_h))
        witness, marginB = initial_witness(GB, hB, fpoint, fnormal, guess, tol)
        if marginB <= tol.margin:
            return _Geometry(cr, None, None, witness, -np.inf)
        # The region's rows keep the exact coincidence screen and test; a box face is grouped with no row.
        fB = facets_by_vertices(GB, hB, witness, tol, same=same.restricted(m))
        if fB is None or fB.vertices is None:
            return _Geometry(cr, None, None, witness, -np.inf)
        cen = fB.vertices.sum(axis=0) / fB.vertices.shape[0]
        m_w, m_c = float((h - G @ witness).min()), float((h - G @ cen).min())
        witness, margin = (cen, m_c) if m_c > m_w else (witness, m_w)
        inner = np.array([bool((grp < m).all()) for grp in fB.groups], dtype=bool)
        if inner.all():
            inner_borderline = fB.borderline[fB.borderline < m]
            inner_facets = FacetInfo(fB.rows, fB.groups, fB.points, fB.vertices, inner_borderline)
            return _Geometry(cr, inner_facets, True, witness, margin)
        if margin <= tol.margin:
            return _Geometry(cr, None, None, witness, -np.inf)
        known = (fB.rows[inner], fB.points[inner])
        facets = facets_by_lp(
            G, h, witness, tol, self.counters, known=known, backend=self.backend, same=same, errors=cr.row_errors()
        )
        borderline = np.union1d(facets.borderline, fB.borderline[fB.borderline < m]).astype(np.intp)
        facets = FacetInfo(facets.rows, facets.groups, facets.points, facets.vertices, borderline)
        return _Geometry(cr, facets, None, witness, margin)
