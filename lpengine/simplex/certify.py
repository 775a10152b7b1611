"""Certifying the end vertex of a Deep ReLU Simplex walk: the ray test, the incident cells, collapsed units.

:func:`certify_vertex` assembles the :class:`~lpengine.simplex.certificate.DRSCertificate` of the final
vertex from independent, named steps: (1) the complete ``2D``-ray test from a fresh factorisation
(:func:`~lpengine.simplex.edge_test.edge_test`; slopes within the rounding margin rechecked in exact
rationals), the exact zero-loss proof, (2) HiGHS on the incident hidden cells (:func:`cross_check_cells`),
(3) the directional-derivative decision of a degenerate vertex with too many cells
(:func:`decide_degenerate`), and (4) the bounded revival search of collapsed units (:func:`revival_search`,
:mod:`lpengine.simplex.collapse`).  It also returns a point of strictly lower loss when one was found,
from which the walk restarts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..tolerances import Tolerances
from .certificate import CellCheck, DRSCertificate, check_cells
from .collapse import REVIVED, CollapsedUnit, loss_error_bound, search_revival, unit_columns, unit_kinks
from .degenerate import SlopeCheck, decide_by_slopes
from .drs_result import frozen_array
from .edge_test import EdgeTest, RayTest, edge_test
from .engine_log import EngineLog
from .exact import exact_vertex_loss_is_zero
from .model import LayerwiseModel
from .pivot import Vertex, price_rays, tight_mask
from .status import DRSStatus

__all__ = ["certify_vertex"]


@dataclass(frozen=True)
class CertifyContext:
    """What every step of the certificate reads (internal): the vertex, its kinks at zero, the budget."""

    model: LayerwiseModel
    st: Vertex
    tz: float
    t: Tolerances
    seed: int | None
    backend: str
    poll: Callable[[], None] | None
    collapsed: list[int]
    frozen: NDArray[np.int64]  # the collapsed units' parameter columns
    ckinks: NDArray[np.int64]  # the collapsed units' kinks
    tight_hidden: NDArray[np.int64]  # hidden kinks at zero that split cells of the live units
    radius: float  # box of the cell LPs
    exhaustive: int  # incident cells (or slope LPs) decided one by one at most


@dataclass(frozen=True)
class Revival:
    """Step 4: the collapsed units' outcomes and where the walk restarts (internal)."""

    units: list[CollapsedUnit]
    restart: NDArray[np.float64] | None
    revived: bool


def certify_vertex(
    model: LayerwiseModel,
    log: EngineLog,
    tz: float,
    t: Tolerances,
    max_cells: int,
    seed: int | None,
    backend: str,
    degenerate_cap: int = 0,
    revival_directions: int = 16,
    poll: Callable[[], None] | None = None,
) -> tuple[DRSCertificate, NDArray[np.float64] | None, str]:
    """Edge test, HiGHS on the incident hidden cells, and the revival search of collapsed units.

    The basis inverse is refactorised from scratch and every ray repriced, so the duals and slopes
    of the certificate come from the final basis, not from the walk's updated inverse.

    Non-degenerate vertex: the complete edge test is the proof, unless the smallest slope lies
    within the rounding margin of zero ("borderline": not certified).  HiGHS cross-checks it on all
    incident cells when there are at most ``max_cells``, else on a seeded sample.  Degenerate vertex
    (more kinks at zero than the basis, collapsed units' kinks excluded): the answer is HiGHS's on
    *all* incident cells when there are at most ``max(degenerate_cap, max_cells)``, undecided beyond.
    With collapsed units the proof covers the slice where they stay at zero (their columns are fixed
    in the cell LPs) and :func:`~lpengine.simplex.collapse.search_revival` looks for a descent that
    switches each back on.

    The steps, in order: :func:`~lpengine.simplex.edge_test.edge_test` (step 1), the exact
    zero-loss proof, :func:`cross_check_cells` (step 2), :func:`decide_degenerate` (step 3) and
    :func:`revival_search` (step 4; it runs before the cells when the rays alone prove the live
    units, and then supersedes the certificate if it revives a unit).

    Returns the certificate, a point of strictly lower loss to restart from (or None), and the kind
    of that restart (``"escape"``: an incident cell LP; ``"revive"``: a collapsed unit switched on).
    """
    st = log.final
    assert st is not None  # called at a vertex
    collapsed = list(log.collapsed)
    ckinks = unit_kinks(model, collapsed)
    edge = edge_test(model, st, tz, t, collapsed, ckinks)
    rt = edge.rays
    log.pricing = rt.pricing
    # The cells meeting at the vertex, as far as the live units are concerned: the collapsed units' kinks
    # (their basis kinks too) are left out, since with their blocks held at zero their signs change
    # neither the cell nor its LP.
    hidden_tight = edge.tight[: model.n_hidden_kinks].copy()
    hidden_tight[ckinks] = False
    v = CertifyContext(
        model=model,
        st=st,
        tz=tz,
        t=t,
        seed=seed,
        backend=backend,
        poll=poll,
        collapsed=collapsed,
        frozen=unit_columns(model, collapsed),
        ckinks=ckinks,
        tight_hidden=np.flatnonzero(hidden_tight),
        radius=t.cell_radius * max(1.0, float(np.max(np.abs(st.theta)))),
        exhaustive=max(max_cells, degenerate_cap) if rt.degenerate else max_cells,
    )
    zero_loss = vertex_loss_is_zero(model, st, tz)
    # With collapsed units at a non-degenerate vertex whose exact ray test passed, the live units are
    # proved at a local minimum by the rays alone (the cells only cross-check), so the revival search
    # runs first; when it switches a unit back on, the walk goes on from there and this certificate is
    # superseded: the cell cross-check is skipped (the certificate says so, and is not certified).
    revive_first = bool(collapsed and rt.ray_ok and not rt.borderline and not rt.degenerate and not zero_loss)
    rev = Revival([], None, False)
    if revive_first:
        rev = revival_search(v, revival_directions, zero_loss, live_ok=True, restart=None)
    cells_allowed = rt.ray_ok or log.status == DRSStatus.LOCAL_MINIMUM
    cells = _unchecked(v) if rev.revived or not cells_allowed else cross_check_cells(v, max_cells)
    slopes = decide_degenerate(v, edge.tight) if rt.degenerate and cells.sampled and rt.ray_ok else None
    decided = not rt.degenerate or not cells.sampled or (slopes is not None and slopes.decided)
    slopes_ok = slopes is None or slopes.ok
    certified = bool(rt.ray_ok and not rt.borderline and cells.ok and slopes_ok and decided) or zero_loss
    if not rev.revived:
        # A point of lower loss from the cells (or the slope LPs) restarts the walk; at loss 0 none exists.
        lower = cells.best_x if cells.best_x is not None else (slopes.best_x if slopes is not None else None)
        restart = lower if rt.ray_ok and not zero_loss else None
        if collapsed and not revive_first:
            rev = revival_search(v, revival_directions, zero_loss, live_ok=rt.ray_ok and cells.ok, restart=restart)
        else:
            rev = Revival(rev.units, restart, False)
    reason = _reason(v, edge, cells, slopes, certified, zero_loss, rev.revived)
    cert = DRSCertificate(
        ray_test=rt.ray_ok,
        n_rays=int(np.count_nonzero(rt.live)),
        min_slope=rt.min_live,
        degenerate=rt.degenerate,
        n_tight_hidden=int(v.tight_hidden.size),
        log2_cells=float(v.tight_hidden.size),
        n_cells_checked=int(cells.checked),
        n_cells_infeasible=int(cells.infeasible),
        sampled=bool(cells.sampled),
        sample_seed=seed if cells.sampled else None,
        lp_confirmed=bool(cells.ok),
        max_lp_gap=float(cells.max_gap),
        box_radius=v.radius,
        basis=tuple(int(b) for b in st.B),
        duals=frozen_array(rt.pricing.duals),
        certified=certified,
        reason=reason,
        scope="all parameters" if not collapsed or zero_loss else "live units",
        collapsed_units=tuple(rev.units),
        slope_margin=float(rt.margin),
        exact_rays=rt.n_exact,
        settled_kinks=edge.settled,
        zero_loss=zero_loss,
    )
    return cert, rev.restart, "revive" if rev.revived else "escape"


def vertex_loss_is_zero(model: LayerwiseModel, st: Vertex, tz: float) -> bool:
    """Loss exactly 0 at the vertex of the basis (the global minimum of an L1 / quantile loss).

    Decided exactly whatever the ray test and the cells say, after a cheap float filter (every
    residual within the kink tolerance of zero).
    """
    return bool(
        model.mode == "layer"
        and st.loss <= float(np.sum(model.c)) * tz + loss_error_bound(model, st.theta)
        and exact_vertex_loss_is_zero(model, st.signs, st.B)
    )


def _unchecked(v: CertifyContext) -> CellCheck:
    """The cell check of a vertex whose cells were not solved."""
    return CellCheck(float(v.tight_hidden.size), 0, 0, False, False, math.nan, None, 0)


def cross_check_cells(v: CertifyContext, max_cells: int) -> CellCheck:
    """Step 2: HiGHS on the incident hidden cells (all up to ``v.exhaustive``, else a seeded sample)."""
    st = v.st
    return check_cells(
        v.model,
        st.theta,
        st.signs,
        v.tight_hidden,
        st.loss,
        max_cells=v.exhaustive,
        seed=v.seed,
        radius=v.radius,
        tol=v.t,
        backend=v.backend,
        sample_size=max_cells,
        fixed_cols=v.frozen,
        poll=v.poll,
        at_zero=v.tz,
    )


def decide_degenerate(v: CertifyContext, tight: NDArray[np.bool_]) -> SlopeCheck:
    """Step 3: a degenerate vertex with more incident cells than HiGHS decides one by one.

    Local minimality is decided from the directional derivative instead
    (:mod:`lpengine.simplex.degenerate`: one LP per choice of its concave terms, not one per cell);
    the sampled cells remain a cross-check.
    """
    st = v.st
    slope_tight = tight.copy()
    slope_tight[v.ckinks] = False
    return decide_by_slopes(
        v.model,
        st.theta,
        st.signs,
        slope_tight,
        st.loss,
        max_branches=v.exhaustive,
        radius=v.radius,
        tol=v.t,
        backend=v.backend,
        fixed_cols=v.frozen,
        poll=v.poll,
    )


def revival_search(
    v: CertifyContext,
    n_directions: int,
    zero_loss: bool,
    *,
    live_ok: bool,
    restart: NDArray[np.float64] | None,
) -> Revival:
    """Step 4: collapsed units — exact slopes of their own rays, then the bounded revival search.

    A unit is searched only when the live units are at a local minimum (``live_ok``) and no other
    restart point is pending (``restart``); at loss 0 no descent exists.
    """
    model, st, tz = v.model, v.st, v.tz
    units: list[CollapsedUnit] = []
    revived = False
    full = tight_mask(model, st, tz)
    pr_all = price_rays(model, st, tz, v.t.pivot, tight=full, collapsed=v.collapsed, price_pinned=True)
    ns_all = pr_all.slopes / pr_all.norms
    layer_B, _, unit_B = st.dec
    for u in v.collapsed:
        rows = np.flatnonzero(np.repeat((layer_B == 0) & (unit_B == u), 2))
        ms = float(np.min(ns_all[rows])) if rows.size else math.nan
        if zero_loss:
            units.append(CollapsedUnit(u, "no descent exists (the loss is 0, the global minimum)", 0, ms))
            continue
        if restart is not None or not live_ok:
            units.append(CollapsedUnit(u, "not searched (the live units are not at a local minimum)", 0, ms))
            continue
        found = search_revival(
            model,
            st.theta,
            st.signs,
            st.loss,
            u,
            v.collapsed,
            np.setdiff1d(v.tight_hidden, v.ckinks),
            ray_dirs=pr_all.rays[rows],
            n_directions=n_directions,
            seed=v.seed,
            radius=v.radius,
            tol=v.t,
            backend=v.backend,
            poll=v.poll,
            at_zero=tz,
        )
        if found.best_x is not None:
            units.append(CollapsedUnit(u, REVIVED, found.cells, ms))
            restart, revived = found.best_x, True
        else:
            units.append(CollapsedUnit(u, f"no descent found in {found.cells} cells", found.cells, ms))
    return Revival(units, restart, revived)


def _reason(
    v: CertifyContext,
    edge: EdgeTest,
    cells: CellCheck,
    slopes: SlopeCheck | None,
    certified: bool,
    zero_loss: bool,
    revived: bool,
) -> str:
    """The certificate's one-paragraph reason: why the vertex is (not) certified."""
    rt, collapsed = edge.rays, v.collapsed
    n_rays = int(np.count_nonzero(rt.live))
    if zero_loss:
        reason = (
            "global minimum: the loss is exactly 0 at the vertex of the final basis (solved and evaluated in "
            "exact rationals), and an L1 / quantile loss is never negative"
        )
    elif certified:
        how = "all" if not cells.sampled else f"a seeded sample of {cells.checked}"
        reason = (
            f"no descending edge among the {n_rays} rays"
            + (f" of the live units (units {collapsed} collapsed to exact zero)" if collapsed else "")
            + (
                f" ({rt.n_exact} slope(s) within the rounding margin rechecked in exact rationals)"
                if rt.n_exact
                else ""
            )
            + (
                f"; {edge.settled} kink(s) within the kink tolerance shown non-zero at the exact vertex"
                if edge.settled
                else ""
            )
            + f"; HiGHS confirmed {how} of 2^{v.tight_hidden.size} incident hidden cell(s)"
            + (f"; {_slope_summary(slopes)}" if slopes is not None else "")
        )
    elif not rt.ray_ok:
        reason = f"a descending edge remains (normalised slope {rt.min_live:.3g})"
    elif rt.borderline:
        reason = (
            f"borderline: the smallest ray slope {rt.min_live:.3g} is within the rounding margin {rt.margin:.3g} "
            "of zero and the exact rational recheck does not apply (bent edge or degenerate vertex)"
        )
    elif revived and cells.checked == 0:
        reason = (
            "a descent switches a collapsed unit back on (revived): the walk goes on from there; the live units "
            "passed the exact ray test, the incident cells were not cross-checked"
        )
    elif not cells.ok:
        reason = (
            f"HiGHS found a point of lower loss in an incident cell (LP gap {cells.max_gap:.3g})"
            if cells.best_x is not None
            else f"{cells.failed} cell LP(s) failed to solve"
        )
    elif slopes is not None and slopes.best_x is not None:
        reason = f"a direction of strictly lower loss: {_slope_summary(slopes)}"
    elif slopes is not None and slopes.failed:
        reason = f"{slopes.failed} LP(s) of the directional-derivative test failed to solve"
    else:
        reason = _undecided_reason(v, rt, cells, slopes)
    if edge.unresolved:
        reason += (
            f" [{edge.unresolved} kink(s) counted at zero by the kink tolerance are non-zero at the exact vertex, "
            "and with them off zero a ray that moves one of them towards zero descends (it reaches it after a "
            "distance of the order of the tolerance, below the walk's float resolution); "
            "decided with the tolerance's kinks at zero]"
        )
    return reason


def _undecided_reason(v: CertifyContext, rt: RayTest, cells: CellCheck, slopes: SlopeCheck | None) -> str:
    """Reason of a degenerate vertex that neither the cells nor the slope LPs decided within the cap."""
    reason = (
        f"undecided: degenerate vertex ({rt.pricing.extra_tight.size} extra kinks at zero) with "
        f"2^{v.tight_hidden.size} incident hidden cells, more than the cap of {v.exhaustive} that HiGHS "
        f"decides exhaustively; a seeded sample of {cells.checked} passed"
    )
    if slopes is None:
        return reason
    if slopes.unproved:
        return reason + (
            f"; the directional-derivative test found no descent, but the lower bound 0 of "
            f"{slopes.unproved} of its {slopes.lps} LP(s) could not be proved in exact rationals"
        )
    if math.isfinite(slopes.log2_branches):
        return reason + f"; the directional-derivative test needs 2^{slopes.log2_branches:.3g} LPs, more than that cap"
    return reason + "; the directional-derivative test needs more LPs than that cap"


def _slope_summary(slopes: SlopeCheck) -> str:
    """One phrase on the directional-derivative test (:mod:`lpengine.simplex.degenerate`)."""
    verdict = "no descent" if slopes.ok else "a descent"
    return (
        f"directional-derivative test: {verdict} in {slopes.lps} LP(s) ({slopes.proved} with the lower bound 0 "
        f"proved in exact rationals; {slopes.n_concave} concave term(s), "
        f"{slopes.n_enumerated} group(s) enumerated by cones; min L' over the unit box {slopes.min_value:.3g})"
    )
