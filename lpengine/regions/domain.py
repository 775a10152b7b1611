"""Input domains of a region enumeration: a box, a polytope ``{x : A x <= c}`` or all of R^d.

A :class:`Domain` stores its halfspaces normalised (``|g| = 1``), so that
``h - g @ x`` is the Euclidean distance of ``x`` to a face.  Build one with
:meth:`Domain.box`, :meth:`Domain.polytope` or :meth:`Domain.whole_space`, or
let :func:`make_domain` read the ``box=`` / ``polytope=`` / ``whole_space=``
keywords of the public functions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_array
from ..exceptions import InvalidDomainError, SolverError
from ..lp import LinearProgram, LPCounters, LPStatus, open_solver
from ..lp.exact import to_dyadic
from ..roundoff import gamma
from ..tolerances import Tolerances, resolve_tolerances
from .cell_lp import chebyshev_center, statuses_handled
from .implied import BOUND_SAFETY, RowErrors, inverse_bound

__all__ = ["Domain", "make_domain", "is_bounded", "proves_bounded"]

# Relative error of a normalised polytope row against a positive multiple of the exact row (a few roundings).
_DOMAIN_ROW_ERROR = 4 * 2.0**-53

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Domain:
    """An input domain: a box, a polytope ``{x : A x <= c}`` or all of R^d.

    Attributes
    ----------
    kind : {"box", "polytope", "whole"}
    G : ndarray, shape (m, dim)
        Unit-norm face normals (empty for R^d).
    h : ndarray, shape (m,)
        Offsets: the domain is ``{x : G x <= h}``.
    bounded : bool
        Whether the domain is a bounded polytope.
    center : ndarray, shape (dim,)
        Chebyshev centre (the origin for R^d).
    radius : float
        Chebyshev radius (``inf`` for R^d and for polytopes containing arbitrarily large balls).
    lo, hi : ndarray, shape (dim,), optional
        The bounds of a box.
    A, c : ndarray, optional
        The rows of a polytope as given (not normalised): exact decisions use these.
    """

    kind: str
    G: NDArray[np.float64]
    h: NDArray[np.float64]
    bounded: bool
    center: NDArray[np.float64]
    radius: float
    lo: NDArray[np.float64] | None = None
    hi: NDArray[np.float64] | None = None
    A: NDArray[np.float64] | None = None
    c: NDArray[np.float64] | None = None

    @property
    def dim(self) -> int:
        """Dimension of the input space."""
        return int(self.center.shape[0])

    def describe(self) -> str:
        """A one-line description, e.g. ``"box [-1, 1]^2"``."""
        if self.kind == "box":
            assert self.lo is not None and self.hi is not None
            if np.all(self.lo == self.lo[0]) and np.all(self.hi == self.hi[0]):
                return f"box [{self.lo[0]:g}, {self.hi[0]:g}]^{self.dim}"
            return f"box {list(map(float, self.lo))} x {list(map(float, self.hi))}"
        if self.kind == "polytope":
            return f"polytope with {self.G.shape[0]} halfspaces in R^{self.dim}"
        return f"R^{self.dim}"

    @classmethod
    def box(cls, lo: ArrayLike, hi: ArrayLike, dim: int | None = None, *, tol: Tolerances | None = None) -> Domain:
        """The box ``[lo, hi]`` (scalars need ``dim``; vectors give it).

        >>> Domain.box(-1, 1, dim=2).describe()
        'box [-1, 1]^2'
        """
        if dim is None:
            if np.ndim(lo) == 0 and np.ndim(hi) == 0:
                raise InvalidDomainError("Domain.box with scalar bounds needs dim (the input dimension).")
            dim = int(np.size(lo) if np.ndim(lo) else np.size(hi))
        return _box(dim, (lo, hi), resolve_tolerances(tol))

    @classmethod
    def polytope(cls, A: ArrayLike, c: ArrayLike, *, tol: Tolerances | None = None, backend: Any = "highs") -> Domain:
        """The polytope ``{x : A x <= c}`` (bounded or not) with nonempty interior."""
        A_arr = check_array(A, "polytope A", ndim=2, error=InvalidDomainError)
        return _polytope(int(A_arr.shape[1]), (A_arr, c), resolve_tolerances(tol), backend)

    @classmethod
    def whole_space(cls, dim: int) -> Domain:
        """All of R^dim."""
        return cls("whole", np.zeros((0, dim)), np.zeros(0), False, np.zeros(dim), float("inf"))


def make_domain(
    n_in: int,
    domain: Domain | None = None,
    *,
    box: Any = None,
    polytope: Any = None,
    whole_space: bool = False,
    tol: Tolerances,
    backend: Any = "highs",
) -> Domain:
    """Resolve a domain: a :class:`Domain`, or exactly one of the three keyword forms.

    Without any, the domain is the box ``[-1, 1]^n_in``.

    Raises
    ------
    InvalidDomainError
        Two forms given, a dimension other than ``n_in``, malformed bounds, or
        an empty (or thinner than ``tol.margin``) domain.
    """
    given = [domain is not None, box is not None, polytope is not None, bool(whole_space)]
    if sum(given) > 1:
        raise InvalidDomainError("give at most one of domain=, box=, polytope= and whole_space=True.")
    if domain is not None:
        if not isinstance(domain, Domain):
            raise InvalidDomainError(f"domain must be a lpengine Domain; got {type(domain).__name__}.")
        if domain.dim != n_in:
            raise InvalidDomainError(f"domain has dimension {domain.dim}; expected the network's n_in = {n_in}.")
        return domain
    if whole_space:
        return Domain.whole_space(n_in)
    if polytope is not None:
        return _polytope(n_in, polytope, tol, backend)
    return _box(n_in, (-1.0, 1.0) if box is None else box, tol)


def _bound_vector(raw: Any, n_in: int, name: str) -> NDArray[np.float64] | None:
    if np.ndim(raw) == 0 or np.size(raw) in (1, n_in):
        arr = check_array(np.atleast_1d(raw), name, ndim=1, error=InvalidDomainError)
        return np.broadcast_to(arr, (n_in,)).copy()
    return None


def _box(n_in: int, box: Any, tol: Tolerances) -> Domain:
    try:
        lo_raw, hi_raw = box
    except (TypeError, ValueError):
        raise InvalidDomainError(f"box must be a pair (lo, hi); got {box!r}.") from None
    lo = _bound_vector(lo_raw, n_in, "box lo")
    hi = _bound_vector(hi_raw, n_in, "box hi")
    if lo is None or hi is None:
        raise InvalidDomainError(f"box bounds must be scalars or vectors of length n_in = {n_in}.")
    if np.any(hi - lo <= 2 * tol.margin):
        i = int(np.flatnonzero(hi - lo <= 2 * tol.margin)[0])
        raise InvalidDomainError(
            f"box is empty or thinner than the margin tolerance in coordinate {i}: lo = {lo[i]}, hi = {hi[i]}."
        )
    eye = np.eye(n_in)
    G = np.vstack([eye, -eye])
    h = np.concatenate([hi, -lo])
    return Domain("box", G, h, True, (lo + hi) / 2, float(np.min(hi - lo) / 2), lo, hi)


def _polytope(n_in: int, polytope: Any, tol: Tolerances, backend: Any) -> Domain:
    try:
        A_raw, c_raw = polytope
    except (TypeError, ValueError):
        raise InvalidDomainError("polytope must be a pair (A, c) describing {x : A x <= c}.") from None
    A = check_array(A_raw, "polytope A", ndim=2, error=InvalidDomainError)
    c = check_array(c_raw, "polytope c", ndim=1, error=InvalidDomainError)
    if A.shape[1] != n_in or c.shape[0] != A.shape[0]:
        raise InvalidDomainError(f"polytope A has shape {A.shape} and c {c.shape}; expected (m, {n_in}) and (m,).")
    amax = np.abs(A).max(axis=1) if A.shape[1] else np.zeros(A.shape[0])
    if np.any(amax == 0):
        i = int(np.flatnonzero(amax == 0)[0])
        raise InvalidDomainError(f"polytope row {i} is zero; remove it (0 <= c[{i}] is not a halfspace).")
    As, cs = A / amax[:, None], c / amax  # scaled first, so tiny or huge rows normalise without under/overflow
    norms = np.linalg.norm(As, axis=1)
    G, h = As / norms[:, None], cs / norms

    center, radius, status = chebyshev_center(G, h, r_max=np.inf, tol=tol, backend=backend)
    if status is LPStatus.UNBOUNDED or status is LPStatus.INFEASIBLE_OR_UNBOUNDED and center is None:
        # An infinite inscribed radius: unbounded in every direction of a cone.
        center, radius, status = chebyshev_center(G, h, r_max=1.0, tol=tol, backend=backend)
        radius = float("inf")
    if center is None and status is not LPStatus.INFEASIBLE:
        raise SolverError(
            f"the Chebyshev LP of the polytope domain ended with status {status.value}; its interior is undecided."
        )
    P = np.empty((A.shape[0], n_in + 1), dtype=object)  # the rows exactly: P . (x, 1) > 0 inside
    for i in range(A.shape[0]):
        P[i] = to_dyadic(np.append(-A[i], c[i]), name="polytope row").mantissas
    if center is None or radius <= tol.margin:
        # Borderline or empty in floats: decide exactly (the rows read as the rationals they store).
        from .exact import decide_strict

        dec = decide_strict(P, center, backend=backend)
        if not dec.nonempty:
            raise InvalidDomainError(
                "polytope has an empty interior (proved exactly: a nonnegative combination of its rows "
                "gives 0 <= c' with c' < 0 or an implicit equality)."
            )
        assert dec.point is not None
        center, radius = dec.point.to_float(), max(radius, 0.0)
    # G is (A / amax) / norm: two roundings per entry from a positive multiple of the exact row.
    errors = RowErrors(_DOMAIN_ROW_ERROR * np.abs(G), _DOMAIN_ROW_ERROR * np.abs(h), lambda: P)
    bounded = is_bounded(G, tol, backend=backend, errors=errors)
    if bounded is None:
        raise SolverError("the boundedness LP of the polytope domain gave no answer; the domain is undecided.")
    return Domain("polytope", G, h, bounded, center, radius, A=A, c=c)


def is_bounded(
    G: NDArray[np.float64],
    tol: Tolerances,
    counters: LPCounters | None = None,
    *,
    backend: Any = "highs",
    errors: RowErrors | None = None,
) -> bool | None:
    """``{x : G x <= h}`` (non-empty) is bounded iff its recession cone ``{G y <= 0}`` is {0}.

    The cone is {0} iff the rows of ``G`` positively span R^d, i.e. ``rank G = d``
    and some ``lambda >= 1`` has ``G^T lambda = 0`` (one LP).

    With ``errors`` (bounds on the rows' distance from the exact rows, and the
    exact rows) the answer is about the exact rows: the float answer stands only
    when a rigorous bound proves it (:func:`_float_bounded`, :func:`_float_unbounded`);
    otherwise :func:`lpengine.lp.exact.decide_bounded` decides with a checked
    certificate.  Without ``errors`` it is the float answer, and ``None`` when
    the LP gives none (an unknown is never read as "unbounded").
    """
    m, d = G.shape
    if m == 0:
        return False
    if errors is None and np.linalg.matrix_rank(G) < d:
        return False
    if errors is not None and _float_unbounded(G, errors, tol, counters, backend):
        # First, as the regions asked about are mostly unbounded (the hybrid method settles most
        # bounded ones by its box): one LP then proves it.
        return False
    lp = LinearProgram(c=np.zeros(m), A=G.T, row_lower=np.zeros(d), row_upper=np.zeros(d), col_lower=np.ones(m))
    with statuses_handled(), open_solver(lp, tol=tol, backend=backend) as s:
        res = s.solve()
        if counters is not None:
            counters.merge(s.counters)
    status = res.status
    if errors is None:
        if status is LPStatus.OPTIMAL:
            return True
        if status is LPStatus.INFEASIBLE:
            return False
        logger.warning("boundedness LP ended with status %s; boundedness left undecided", status.value)
        return None
    if status is LPStatus.OPTIMAL and res.x is not None and _float_bounded(G, errors, res.x):
        return True
    if errors.exact_rows is None:
        return None
    from ..lp.exact import decide_bounded

    P = errors.exact_rows()  # region P . (x, 1) > 0, i.e. -P[:, :d] x < P[:, d]
    return decide_bounded(-P[:, :d], backend=backend).bounded


def proves_bounded(
    G: NDArray[np.float64], errors: RowErrors, lam: NDArray[np.float64], basis: NDArray[np.intp] | None = None
) -> bool:
    """Public form of :func:`_float_bounded`: do multipliers ``lam > 0`` (``G^T lam ~ 0``) prove the exact rows bounded?

    Used by the polar-hull facets (:mod:`.polar`), which read ``lam`` off the hull without an LP.
    ``basis`` (``d`` rows believed independent) spares the pivoted QR that picks them.
    """
    return _float_bounded(G, errors, lam, basis)


def _float_bounded(
    G: NDArray[np.float64], errors: RowErrors, lam: NDArray[np.float64], basis: NDArray[np.intp] | None = None
) -> bool:
    """Floats prove the exact rows bounded: ``lam >= 1`` with ``G^T lam ~ 0`` corrected on ``d`` rows.

    With ``r = G_exact^T lam`` and ``M = G_exact[B]^T`` for ``d`` independent rows ``B``
    (QR with column pivoting), ``lam' = lam - M^{-1} r`` on ``B`` solves ``G_exact^T lam' = 0``;
    it is ``> 0`` (so the exact rows positively span R^d) if ``|M^{-1} r|_inf < min lam``.
    The bound on ``|M^{-1}|`` and ``|r|`` is rigorous (see :mod:`.implied`) for any choice of
    ``B``; a poor one (nearly dependent rows) only makes the bound fail.  ``basis`` gives ``B``.
    """
    m, d = G.shape
    if m <= d or not np.all(np.isfinite(lam)):
        return False
    if basis is None:
        from scipy.linalg import qr

        _, _, piv = qr(G.T, pivoting=True, mode="economic")
        B = np.sort(piv[:d])
    else:
        B = basis
    r = np.abs(G.T @ lam) + gamma(m) * (np.abs(G.T) @ np.abs(lam)) + errors.EG.T @ np.abs(lam)
    bound = inverse_bound(G[B].T, errors.EG[B].T)
    return bound is not None and bound * BOUND_SAFETY * float(r.max()) < float(lam.min())


def _float_unbounded(
    G: NDArray[np.float64], errors: RowErrors, tol: Tolerances, counters: LPCounters | None, backend: Any
) -> bool:
    """Floats prove the exact rows unbounded: ``u`` with ``G u <= -t`` and ``t`` above the rows' error at ``u``.

    LP ``max t s.t. G u + t <= 0, -1 <= u <= 1, t <= 1``; then ``G_exact u < 0``, a recession
    direction, when ``t`` exceeds ``EG |u| + gamma |G| |u|`` in every row.
    """
    m, d = G.shape
    lp = LinearProgram(
        c=np.concatenate([np.zeros(d), [-1.0]]),
        A=np.hstack([G, np.ones((m, 1))]),
        row_upper=np.zeros(m),
        col_lower=np.concatenate([np.full(d, -1.0), [-np.inf]]),
        col_upper=np.ones(d + 1),
    )
    with statuses_handled(), open_solver(lp, tol=tol, backend=backend) as s:
        res = s.solve()
        if counters is not None:
            counters.merge(s.counters)
    if res.status is not LPStatus.OPTIMAL or res.x is None:
        return False
    u = res.x[:d]
    au = np.abs(u)
    slack = -(G @ u)
    err = BOUND_SAFETY * (errors.EG @ au + gamma(d + 1) * (np.abs(G) @ au))
    return bool(np.all(slack > err)) and bool(np.any(u != 0))
