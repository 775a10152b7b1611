"""Exact certification of the search's decisions, at float cost when the floats are clear.

Definition (the one the count means): the region of a pattern ``S`` is
``{x in int(Dom) : sigma_k z_k(x) > 0 for every live unit k}``, with the float64 weights
read as the exact rationals they store; it counts iff it is nonempty.  A unit is
*dead* on the region iff its gradient ``alpha_k`` is exactly zero; its sign is then
that of its constant value (``0`` counts as inactive, ReLU gives 0 either way).

:class:`Certifier` holds the exact form of the network (:class:`~.exact.ExactNet`)
and the domain's exact rows; :meth:`Certifier.rows` builds a region's rows with
the float composition, a rigorous bound on its error, and the exact rows only
where the floats cannot be trusted (a gradient within its error bound of zero, or
a row whose relative error bound is not small).  Decisions:

* **counted, by floats**: every row is strictly positive at the float witness by
  more than its error bound (:meth:`CertifiedRows.witness_certain`);
* **counted, exactly**: the witness checked in integers, else
  :func:`~.exact.decide_region` (float LP for a point or a Farkas support, then the exact
  simplex);
* **empty**: only with an exactly checked Farkas vector (or a dead unit whose exact
  constant sign contradicts the pattern).

:attr:`Certifier.stats` counts the decisions of each kind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..lp.exact import to_dyadic
from ..network import LocalAffineMap, ReLUNetwork
from ..roundoff import UNIT_ROUNDOFF
from ..tolerances import Tolerances
from .domain import Domain
from .exact import (
    ExactFacet,
    ExactNet,
    StrictDecision,
    decide_region,
    exact_facet,
    row_error_bounds,
    rows_to_float,
    same_hyperplane,
)
from .implied import BOUND_SAFETY, RowErrors
from .polytope import ExactCoincidence, RegionRows

__all__ = ["Certifier", "CertifiedRows", "DecisionStats"]

logger = logging.getLogger(__name__)

# A float row whose relative error bound exceeds this is replaced by the exact row rounded to float.
# A speed/quality knob for the float geometry only: every count decision is certified separately.
_ROW_RELATIVE_ERROR = 1e-8


@dataclass
class DecisionStats:
    """How the region decisions were made (summed over processes)."""

    float_certified: int = 0
    exact_witness: int = 0
    exact_lp: int = 0
    proved_empty: int = 0
    exact_rows: int = 0
    seconds_exact: float = 0.0
    exact_facets: int = 0
    exact_crossings: int = 0

    def merge(self, other: DecisionStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def exact_share(self) -> float:
        """Share of the region decisions that needed exact arithmetic."""
        n = self.float_certified + self.exact_witness + self.exact_lp
        return (self.exact_witness + self.exact_lp) / n if n else 0.0


def domain_rows(domain: Domain) -> NDArray[Any]:
    """The domain's interior as exact integer rows ``P . (x, 1) > 0`` (same order as ``domain.G``)."""
    d = domain.dim
    if domain.kind == "whole":
        return np.empty((0, d + 1), dtype=object)
    if domain.kind == "box":
        assert domain.lo is not None and domain.hi is not None
        raw = np.concatenate((-np.eye(d), np.eye(d)))
        rhs = np.concatenate((domain.hi, -domain.lo))
    else:
        assert domain.A is not None and domain.c is not None
        raw, rhs = -domain.A, domain.c
    out = np.empty((raw.shape[0], d + 1), dtype=object)
    for i in range(raw.shape[0]):
        dy = to_dyadic(np.append(raw[i], rhs[i]), name="domain row")
        out[i] = dy.mantissas
    return out


@dataclass
class CertifiedRows:
    """A region's float rows with what is needed to certify decisions on them.

    ``rows`` are the usual normalised rows (live units, then domain).  ``bound`` and
    ``mag`` give each unit row's float error at a point ``x``: ``bound * mag[k] . (|x|, 1)``
    in the units of ``(A, c)``.  ``exact`` (integer rows, oriented so that the
    region is ``P . (x, 1) > 0``; lazily computed) covers the same rows as ``rows.G``.
    ``affine`` is the region's :class:`~lpengine.network.LocalAffineMap` when its arrays are
    ``rows.A, rows.c`` unchanged (the fast path), so the result can keep it as is.
    """

    rows: RegionRows
    mag: NDArray[np.float64]
    bound: float
    signs: NDArray[np.int8]
    certifier: Certifier
    _exact_units: NDArray[Any] | None = None
    _P: NDArray[Any] | None = field(default=None, repr=False)
    fast: bool = False
    affine: LocalAffineMap | None = field(default=None, repr=False)
    _same: ExactCoincidence | None = field(default=None, repr=False)

    def witness_certain(self, x: NDArray[np.float64], margin: float | None = None) -> bool:
        """Floats prove that ``x`` is strictly inside every row (no integer arithmetic).

        ``margin``, the float distance of ``x`` to the nearest row, settles it at once on
        the fast path (every row's relative error bound below ``_ROW_RELATIVE_ERROR``):
        the exact normalised slack of row ``k`` is at least the float one minus
        ``_ROW_RELATIVE_ERROR (|x|_1 + 1)`` (composition) minus ``(d + 3) u (|x|_1 + sqrt(d) |h_k|)``
        (normalisation and evaluation), so a margin above both proves every row.
        """
        r = self.rows
        if self.fast and margin is not None:
            cert = self.certifier
            x1 = sum(map(abs, x.tolist()))
            # First with the bound on |h_k| that holds for every fast-path region (no array work);
            # only when that is not enough, with this region's own largest |h_k|.
            if margin > _ROW_RELATIVE_ERROR * (x1 + 1.0) + cert.eval_unit * (x1 + cert.sqrt_d * cert.h_bound):
                return True
            hmax = float(np.abs(r.h).max()) if r.h.shape[0] else 0.0
            if margin > _ROW_RELATIVE_ERROR * (x1 + 1.0) + cert.eval_unit * (x1 + cert.sqrt_d * hmax):
                return True
        ax = np.abs(x)
        if not r.dead.any():  # every unit has a row (the common case): no fancy indexing
            z = (r.A @ x + r.c) * r.signs
            if not bool(np.all(z > self.bound * (self.mag[:, :-1] @ ax + self.mag[:, -1]))):
                return False
        else:
            live = r.unit[r.unit >= 0]
            if live.size:
                z = (r.A[live] @ x + r.c[live]) * r.signs[live]
                err = self.bound * (self.mag[live, :-1] @ ax + self.mag[live, -1])
                if not bool(np.all(z > err)):
                    return False
        dom = self.certifier.domain
        if dom.kind == "box":
            assert dom.lo is not None and dom.hi is not None
            return bool(np.all(x < dom.hi) and np.all(x > dom.lo))  # float comparisons are exact
        if dom.kind == "polytope":
            assert dom.A is not None and dom.c is not None
            u = 2.0**-52 * (dom.dim + 2)
            slack = dom.c - dom.A @ x
            return bool(np.all(slack > u * (np.abs(dom.A) @ np.abs(x) + np.abs(dom.c))))
        return True

    def row_errors(self) -> RowErrors:
        """Bounds on the distance of the float rows ``rows.G, rows.h`` from positive multiples of the exact rows.

        Unit row ``i`` is ``G_i = fl(-s_i A_k)`` with ``s_i = sigma_k / |A_k|`` a float, so
        ``|G_i + s_i A_k_exact| <= |s_i| bound mag_k + u |G_i|`` (the composition's error, then
        the product's rounding; doubled for the rounding of the bound itself); likewise ``h``.
        Domain rows are exact up to the two roundings of their normalisation.
        """
        r = self.rows
        live = r.unit[r.unit >= 0]
        n_live = live.shape[0]
        G, h = r.G, r.h
        EG = 4.0 * UNIT_ROUNDOFF * np.abs(G)
        Eh = 4.0 * UNIT_ROUNDOFF * np.abs(h)
        if n_live:
            d = G.shape[1]
            norms = np.sqrt(np.einsum("ij,ij->i", r.A[live], r.A[live]))
            s = 1.0 / norms
            EG[:n_live] += 2.0 * self.bound * s[:, None] * self.mag[live, :d]
            Eh[:n_live] += 2.0 * self.bound * s * self.mag[live, d]
        return RowErrors(EG, Eh, self.exact_rows)

    def exact_rows(self) -> NDArray[Any]:
        """The region's rows exactly (live units oriented by the pattern, then the domain)."""
        if self._P is None:
            units = self.certifier.unit_rows(self)
            live = self.rows.unit[self.rows.unit >= 0]
            P_units = units[live] * self.rows.signs[live].astype(object)[:, None]
            self._P = np.concatenate((P_units, self.certifier.dom_rows), axis=0)
        return self._P

    def exactly_same(self, i: int, j: int) -> bool:
        """Exactly: do rows ``i`` and ``j`` (indices into ``rows.G``) bound the same halfspace?"""
        P = self.exact_rows()
        return same_hyperplane(P[i], P[j]) > 0

    @property
    def same_hyperplane(self) -> ExactCoincidence:
        """The region's coincidence test: ``same_hyperplane(i, j)`` is :meth:`exactly_same`, and its
        :meth:`~.polytope.ExactCoincidence.groups` finds every row on a row's hyperplane (a float screen
        with :meth:`row_errors`, then integers).

        Every row here is within ``Certifier.row_rho`` of its exact row (see :class:`~.polytope.ExactCoincidence`):
        the fast path's gradients clear ``1e8`` times their composition's error bound, a slow-path
        row whose gradient does not (offsets included) is replaced by its exact row rounded, and
        domain rows are exact up to their normalisation.
        """
        if self._same is None:
            self._same = ExactCoincidence(self.exactly_same, self.row_errors, self.certifier.row_rho)
        return self._same


class Certifier:
    """Exact decisions for one search (one per process; holds no search state)."""

    def __init__(self, net: ReLUNetwork, domain: Domain, tol: Tolerances, backend: Any) -> None:
        self.net, self.domain, self.tol, self.backend = net, domain, tol, backend
        self._exact_net: ExactNet | None = None
        self._dom_rows: NDArray[Any] | None = None
        self.stats = DecisionStats()
        # Error magnitudes with every unit active: an upper bound for every pattern.
        self.mag_all, self.bound_all = row_error_bounds(net, np.ones(sum(net.hidden_widths), dtype=np.int8))
        self.err_a_all = self.bound_all * self.mag_all.max(axis=1) * (1.0 / _ROW_RELATIVE_ERROR)
        # Every row of every region is within row_rho of a positive multiple of its exact row
        # (|G - l g| <= row_rho, |h - l c| <= row_rho (1 + |h|), elementwise; row_errors() per row):
        # composition errors below 2 _ROW_RELATIVE_ERROR after the normalisation (fast path and kept
        # slow-path rows), 2 bound |row| for rounded exact rows (bound <= bound_all), 4 u |row| for the
        # normalisation's rounding; BOUND_SAFETY for the rounding of this sum.
        self.row_rho = BOUND_SAFETY * (2.0 * _ROW_RELATIVE_ERROR + 2.0 * self.bound_all + 5.0 * UNIT_ROUNDOFF)
        self.err_norm_all = self.err_a_all * np.sqrt(net.n_in)
        # For witness_certain's fast test: (d + 3) u, sqrt(d), and a bound on |h_k| over every
        # fast-path region.  A unit row's offset is h_k = c_k / |A_k| (rounded), with |c_k| <= mag_all[k, d]
        # (masks only drop terms) and |A_k| > err_norm_all[k] on the fast path; the factor 2 covers the
        # roundings of c_k, of the quotient and of this bound.  Domain rows have fixed offsets.
        d = self._d = net.n_in
        self.eval_unit = (d + 3) * 2.0**-52
        self.sqrt_d = float(np.sqrt(d))
        with np.errstate(divide="ignore", invalid="ignore"):
            unit_h = 2.0 * self.mag_all[:, d] / self.err_norm_all
        unit_h = np.where(np.isnan(unit_h), np.inf, unit_h)
        dom_h = float(np.abs(domain.h).max()) if domain.h.shape[0] else 0.0
        self.h_bound = max(float(unit_h.max()) if unit_h.size else 0.0, dom_h)
        # The fast path's unit indices (every unit live, then the domain rows) and dead mask, shared read-only.
        n_units = sum(net.hidden_widths)
        self._unit_fast = np.concatenate((np.arange(n_units), np.full(domain.G.shape[0], -1, dtype=np.intp)))
        self._unit_fast.flags.writeable = False
        self._no_dead = np.zeros(n_units, dtype=bool)
        self._no_dead.flags.writeable = False
        # The layers as augmented matrices [W | b], for the masked composition in affine().
        self._first = np.column_stack((net.weights[0], net.biases[0]))
        self._later = list(zip(net.weights[1:], net.biases[1:], strict=True))
        self._offsets = np.concatenate(([0], np.cumsum(net.hidden_widths))).tolist()

    @property
    def exact_net(self) -> ExactNet:
        """The network in exact integers, built at the first exact decision (none when floats decide all)."""
        if self._exact_net is None:
            self._exact_net = ExactNet(self.net)
        return self._exact_net

    @property
    def dom_rows(self) -> NDArray[Any]:
        """The domain's exact rows (:func:`domain_rows`), built at their first use."""
        if self._dom_rows is None:
            self._dom_rows = domain_rows(self.domain)
        return self._dom_rows

    def affine(self, active: NDArray[np.bool_]) -> LocalAffineMap:
        """The pattern's affine maps (as :meth:`ReLUNetwork.local_affine_map`), composed on ``[A | c]`` at once.

        ``[A^{l+1} | c^{l+1}] = W^{l+1} diag(m^l) [A^l | c^l] + [0 | b^{l+1}]``: one product per
        layer for the gradients and offsets together.  Each entry is the same dot product as in
        the separate composition, so :func:`~.exact.row_error_bounds` covers it alike.
        """
        d = self._d
        offs = self._offsets
        Ac = self._first
        blocks = [Ac]
        for l, (W, b) in enumerate(self._later):
            Ac = W @ (Ac * active[offs[l] : offs[l + 1], None])
            Ac[:, d] += b
            blocks.append(Ac)
        L = len(offs) - 1
        hidden = np.concatenate(blocks[:L]) if L > 1 else blocks[0]
        if self.net.has_output_layer:
            return LocalAffineMap(hidden[:, :d], hidden[:, d], blocks[L][:, :d], blocks[L][:, d])
        return LocalAffineMap(hidden[:, :d], hidden[:, d], None, None)

    def unit_rows(self, cr: CertifiedRows) -> NDArray[Any]:
        """Exact integer rows of every hidden unit under the region's pattern (cached on ``cr``)."""
        if cr._exact_units is None:
            cr._exact_units = self.exact_net.rows(cr.signs)
            self.stats.exact_rows += 1
        return cr._exact_units

    def rows(self, signs: NDArray[np.int8]) -> CertifiedRows:
        """The region's rows: float composition, exact rows only where the floats are not clear."""
        net, tol, domain = self.net, self.tol, self.domain
        aff = self.affine(signs > 0)
        A, c = aff.A, aff.c
        # Fast path: the magnitudes with every unit active bound those of any pattern (masks only drop
        # nonnegative terms), so if no gradient is small against them, no row needs more care.  The test
        # is on the norms (max_j |A_kj| >= |A_k| / sqrt(d)), which the rows need anyway.
        norms = np.sqrt(np.einsum("ij,ij->i", A, A))
        if A.shape[1] and bool((norms > self.err_norm_all).all()):
            canon = np.array(signs, dtype=np.int8)
            s = canon / norms
            G_units, h_units = -s[:, None] * A, s * c
            n_dom = domain.G.shape[0]
            G = np.concatenate((G_units, domain.G)) if n_dom else G_units
            h = np.concatenate((h_units, domain.h)) if n_dom else h_units
            rows0 = RegionRows(G, h, self._unit_fast, canon, self._no_dead, True, A, c, aff.out_A, aff.out_c)
            return CertifiedRows(rows0, self.mag_all, self.bound_all, canon, self, None, fast=True, affine=aff)
        amax = np.abs(A).max(axis=1) if A.shape[1] else np.zeros(A.shape[0])
        mag, bound = row_error_bounds(net, signs)
        # A bound on each entry's error of (alpha_k, beta_k): the offset counts too, or a row composed through
        # large cancelling offsets would keep a float offset far from the exact one (the float geometry,
        # facet and coincidence screens included, relies on every row being within row_rho).
        err_a = bound * mag.max(axis=1)
        # Every path from the input masked: alpha is exactly 0; the constant's sign is sure when it
        # clears its error bound (or no path from any bias is open either: it is exactly b).
        zero_path = mag[:, :-1].max(axis=1) == 0 if A.shape[1] else np.ones(A.shape[0], dtype=bool)
        c_sure = (np.abs(c) > bound * mag[:, -1]) | (mag[:, -1] == 0)
        fast_dead = zero_path & c_sure
        unsure = (~zero_path & (amax <= err_a * (1.0 / _ROW_RELATIVE_ERROR))) | (zero_path & ~c_sure)
        canon = np.array(signs, dtype=np.int8)
        exact_units: NDArray[Any] | None = None
        dead = fast_dead.copy()
        consistent = True
        if fast_dead.any():
            want_fast = np.where(c[fast_dead] > 0, 1, -1).astype(np.int8)
            consistent = bool(np.all(want_fast == canon[fast_dead]))
            A = A.copy()
            c = c.copy()
            A[fast_dead] = 0.0
            c[fast_dead] = np.sign(c[fast_dead])
        if unsure.any():
            exact_units = self.exact_net.rows(signs)
            self.stats.exact_rows += 1
            d = A.shape[1]
            idx = np.flatnonzero(unsure)
            rounded = rows_to_float(exact_units[idx])
            A = A.copy()
            c = c.copy()
            mag = mag.copy()
            for k, row in zip(idx.tolist(), rounded, strict=True):
                if all(v == 0 for v in exact_units[k, :d].tolist()):
                    dead[k] = True
                    cv = exact_units[k, d]
                    want = 1 if cv > 0 else -1
                    consistent = consistent and want == canon[k]
                    A[k] = 0.0
                    c[k] = float(np.sign(float(cv > 0) - float(cv < 0)))
                else:
                    A[k], c[k] = row[:d], row[d]
                    mag[k] = np.abs(row)  # a rounded exact row: error within bound * |row|
        live = np.flatnonzero(~dead)
        norms = np.sqrt(np.einsum("ij,ij->i", A[live], A[live]))
        s = canon[live] / norms
        G_units = -s[:, None] * A[live]
        h_units = s * c[live]
        n_dom = domain.G.shape[0]
        G = np.concatenate((G_units, domain.G)) if n_dom else G_units
        h = np.concatenate((h_units, domain.h)) if n_dom else h_units
        unit = np.concatenate((live, np.full(n_dom, -1, dtype=np.intp))) if n_dom else live
        rows = RegionRows(G, h, unit, canon, dead, consistent, A, c, aff.out_A, aff.out_c)
        del tol
        return CertifiedRows(rows, mag, bound, canon, self, exact_units)

    def canonical(self, signs: NDArray[np.int8]) -> NDArray[np.int8]:
        """``signs`` with every dead unit's sign set to that of its exact constant value.

        A flip can make deeper units dead (constant); their sign is then not free.
        Fixing one layer's dead units changes only later layers, so this settles
        in at most one pass per layer.
        """
        s = signs
        for _ in range(len(self.net.hidden_widths) + 1):
            cr = self.rows(s)
            if cr.rows.consistent:
                return s
            r = cr.rows
            want = np.where(r.c > 0, 1, -1).astype(np.int8)
            s = s.copy()
            s[r.dead] = want[r.dead]
        return s

    def facet(self, cr: CertifiedRows, k: int) -> ExactFacet | None:
        """Exactly: is row ``k`` of the region a facet?  (:func:`~.exact.exact_facet`; counted in :attr:`stats`.)"""
        import time

        t0 = time.perf_counter()
        out = exact_facet(cr.exact_rows(), k, self.backend)
        self.stats.exact_facets += 1
        self.stats.seconds_exact += time.perf_counter() - t0
        return out

    def decide(self, cr: CertifiedRows, hint: NDArray[np.float64] | None) -> StrictDecision:
        """Decide exactly whether the region is nonempty (counted in :attr:`stats`)."""
        import time

        t0 = time.perf_counter()
        if not cr.rows.consistent:
            self.stats.proved_empty += 1
            return StrictDecision(False, None, None, "dead unit")
        P = cr.exact_rows()
        dec = decide_region(P, cr.rows.G, cr.rows.h, hint, self.tol, self.backend)
        if dec.nonempty:
            if dec.method == "hint":
                self.stats.exact_witness += 1
            else:
                self.stats.exact_lp += 1
        else:
            self.stats.proved_empty += 1
        self.stats.seconds_exact += time.perf_counter() - t0
        return dec
