"""The single home of every numerical tolerance in lpengine.

No other module contains a bare tolerance literal: functions take a
``tol: Tolerances | None`` argument and fall back to :data:`DEFAULT_TOLERANCES`.

Scale.  Each attribute below says what it is compared with: a distance in
input coordinates, a value relative to a scale, or (for a few LP and loss
quantities) an absolute value.  Region counts do not depend on any of them: in
:func:`~lpengine.regions.enumerate_regions` the tolerances only decide which
questions the floats answer and which go to exact rational arithmetic, the
tests of signs and coincidences are made on distances (rows normalised by their
gradients) or exactly, and counts are the same when every pre-activation is
scaled by any ``s`` in ``[1e-12, 1e12]`` (a metamorphic test checks this).
Quantities that are genuinely absolute (a thin-region flag is a radius in input
units, :meth:`~lpengine.ReLUNetwork.activation_pattern` compares raw
pre-activations) say so where they are documented.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

__all__ = ["Tolerances", "DEFAULT_TOLERANCES", "resolve_tolerances"]


@dataclass(frozen=True)
class Tolerances:
    """Numerical tolerances, with the reason for each default.

    Attributes
    ----------
    feasibility : float
        Largest primal residual (row or bound violation) accepted from an LP
        reported optimal; beyond it the result is marked ``INACCURATE``.
        HiGHS works to 1e-7 internally; 1e-6 leaves room for scaling.
    dual : float
        Largest relative dual infeasibility accepted from an LP reported
        optimal (stationarity residual ``|c - A^T y - z|`` or a dual whose sign
        no active bound supports, over ``max(1, |c|, |y|, |z|)``); beyond it the
        result is marked ``INACCURATE``.  Also the smallest relative gap by
        which a Farkas ray must prove an "infeasible" answer.  Ten times the
        HiGHS dual tolerance, which bounds the reduced-cost errors it leaves.
    lp_primal, lp_dual : float
        Passed to HiGHS as ``primal_feasibility_tolerance`` and
        ``dual_feasibility_tolerance`` (the HiGHS defaults).
    activation : float
        A distance (input units) below which a point counts as lying on a
        unit's hyperplane in floats: :func:`~lpengine.regions.pattern_at` raises
        for ``|z| <= activation |grad z|`` rather than pick a side, and the region
        search uses it to find the rows tight at a vertex (scaled by the
        vertex's size) and to read facet LPs.  Never a count decision: a facet
        or sign the floats cannot settle clearly is decided exactly.
        :meth:`~lpengine.ReLUNetwork.activation_pattern` compares the raw
        ``|z|`` with it (absolute; 0 = ambiguous).
    margin : float
        Inscribed (Chebyshev) radius, in input units, below which the floats
        do not trust a region's geometry.  Such a region is decided in exact
        arithmetic and, when nonempty, counted and flagged ``thin``; rows passing
        within ``margin`` of a vertex are likewise decided exactly.  The
        float-only oracle ``brute_force_regions(exact=False)`` counts only
        regions with a ball of radius ``> margin``.
    zero_row : float
        Float-only code (``brute_force_regions(exact=False)``, the analysis
        helpers): a unit whose local gradient has Euclidean norm at most this is
        *dead* (constant) there.  The region search does not use it: a unit is
        dead iff its gradient is exactly zero, decided exactly, and its sign is
        that of its exact constant value (0 counts as inactive).
    coincident : float
        Two normalised rows ``(alpha, beta) / |alpha|`` closer than this (max-norm)
        are *candidates* for one hyperplane where no error bounds are known; they
        are treated as one only if their exact rows are proportional (checked in
        integers).  The region search does not use it: its candidates are the rows
        within their rounding-error bounds of each other
        (:func:`lpengine.regions.implied.coincidence_screen`), decided in integers.
    objective : float
        Relative tolerance when two objective values are compared (LP optima,
        loss values).
    pivot : float
        Smallest pivot element / slope magnitude treated as non-zero in the
        Deep ReLU Simplex (descending-edge tests, ratio tests); in the LAD vertex walk, the
        smallest entering-row pivot relative to the largest on the edge.
    kink : float
        Deep ReLU Simplex: a kink value ``|z| <= kink * scale`` counts as zero
        (tight), where ``scale = max(1, max |z|)`` over all kinks at the start
        point.  Relative, so problems far from unit scale behave alike.
    slope : float
        Deep ReLU Simplex: an edge ray descends iff its normalised slope
        ``L'(theta; e) / |e|`` is below ``-slope * scale`` (``scale`` the largest
        normalised ray slope magnitude plus the gradient norm, at least 1).
    drift : float
        Deep ReLU Simplex: when the recomputed values of the basis kinks exceed
        ``drift * scale``, or the updated inverse deviates from a fresh one by
        more than ``drift``, the basis inverse is refactorised (and counted).
    perturbation : float
        Deep ReLU Simplex: a start point lying on a kink is moved by a seeded
        random vector of relative size ``perturbation * max(1, |theta0|_inf)``
        (recorded in the result).
    verify : float
        Deep ReLU Simplex, ``verify=True``: a vertex agrees with its HiGHS
        region LP iff ``|theta - theta_LP|_inf <= verify * (1 + |theta|_inf)``
        and ``|loss - LP optimum| <= verify * (1 + |loss|)``.  Looser than
        ``drift`` because the LP itself is only solved to ``lp_primal``.
    rank : float
        LAD / quantile regression: a design column whose component orthogonal to
        the earlier (kept) columns has norm ``<= rank`` times its own norm is
        *aliased* (a linear combination of earlier columns, as R's ``lm`` reports
        ``NA``) and held at zero.  Relative to each column's own norm, so column
        scaling does not matter.  The exact certificate then states whether the
        fit is also optimal with the aliased columns free.
    crossover : float
        LAD / quantile regression: when the crossover from an interior point picks
        the ``p`` interpolated rows of the first vertex, a row is accepted only if
        its component orthogonal to the rows already chosen has at least this
        fraction of its norm (a well-conditioned start basis).  Affects speed only.
    ipm_gap : float
        LAD / quantile regression: relative duality gap at which the interior-point
        warm start stops.  Affects speed only: the exact vertex and its proof come
        after it.
    perfect_fit : float
        LAD / quantile regression: the vertex walk stops and hands its vertex to the exact certificate
        when every residual satisfies ``|r_i| <= perfect_fit * (|y_i| + |a_i| . |beta|)`` (an
        interpolating fit, e.g. a constant or noiseless target).  Such a vertex is degenerate in every
        row, and pricing its arbitrary zero-residual signs only pivots in place.  Affects speed only:
        the certificate proves the loss exactly 0, or refutes the vertex and the walk goes on.
    cell_radius : float
        Deep ReLU Simplex certificate: the HiGHS cell LPs confirm the minimum
        on the box ``|theta - theta*|_inf <= cell_radius * max(1, |theta*|_inf)``
        (by convexity of each cell's LP, optimality there is local optimality).
    cycle : float
        :func:`~lpengine.train_network`: training stops (status ``"converged"``)
        once a full cycle over the layers lowers the loss by at most
        ``cycle * max(1, loss)``.  After a cycle of certified layer-wise minima
        the decrease is usually exactly zero; 1e-6 also ends the long tails of
        ever smaller gains that no user would wait for.
    dependence : float
        :func:`~lpengine.train_network`: a feature column of a trained layer
        (an upstream unit, dead or a combination of others on the data) counts as
        dependent when its distance to the span of the kept columns is at most
        ``dependence * max(1, |column|)``; its weights are then held fixed and
        the others are reparametrised so that the network's outputs on the data
        do not change (a vertex needs independent features).
    """

    feasibility: float = 1e-6
    dual: float = 1e-6
    lp_primal: float = 1e-7
    lp_dual: float = 1e-7
    activation: float = 1e-9
    margin: float = 1e-7
    zero_row: float = 1e-12
    coincident: float = 1e-10
    objective: float = 1e-9
    pivot: float = 1e-10
    kink: float = 1e-9
    slope: float = 1e-9
    drift: float = 1e-6
    perturbation: float = 1e-7
    verify: float = 1e-6
    cell_radius: float = 1e-4
    cycle: float = 1e-6
    dependence: float = 1e-9
    rank: float = 1e-10
    crossover: float = 1e-6
    ipm_gap: float = 1e-9
    perfect_fit: float = 1e-12

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, (int, float)) or not (0.0 < float(value) < 1.0):
                raise ValueError(f"Tolerances.{field.name} must be a float in the range (0, 1). Got {value!r} instead.")

    def replace(self, **changes: float) -> Tolerances:
        """Return a copy with some fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)


DEFAULT_TOLERANCES = Tolerances()


def resolve_tolerances(tol: Tolerances | None) -> Tolerances:
    """Return ``tol`` or the defaults; reject anything that is not a ``Tolerances``."""
    if tol is None:
        return DEFAULT_TOLERANCES
    if not isinstance(tol, Tolerances):
        raise TypeError(
            f"The 'tol' parameter must be a lpengine.Tolerances instance or None. Got {type(tol).__name__} instead."
        )
    return tol
