"""Certifying the end vertex of a Deep ReLU Simplex walk: the ray test, the incident cells, collapsed units.

:func:`certify_vertex` assembles the :class:`~lpengine.simplex.certificate.DRSCertificate` of the final
vertex from independent pieces: the complete ``2D``-ray test from a fresh factorisation (slopes within the
rounding margin rechecked in exact rationals, :mod:`lpengine.simplex.exact`), HiGHS on the incident hidden
cells (:func:`~lpengine.simplex.certificate.check_cells`), the exact zero-loss proof, and the bounded
revival search of collapsed units (:mod:`lpengine.simplex.collapse`).  It also returns a point of strictly
lower loss when one was found, from which the walk restarts.
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
from .engine_log import EngineLog
from .exact import exact_kink_values, exact_ray_slopes, exact_vertex_loss_is_zero
from .model import LayerwiseModel
from .pivot import Pricing, Vertex, price_rays, tight_mask
from .status import DRSStatus

__all__ = ["certify_vertex"]


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

    Returns the certificate, a point of strictly lower loss to restart from (or None), and the kind
    of that restart (``"escape"``: an incident cell LP; ``"revive"``: a collapsed unit switched on).
    """
    st = log.final
    assert st is not None  # called at a vertex
    collapsed = list(log.collapsed)
    frozen = unit_columns(model, collapsed)
    ckinks = unit_kinks(model, collapsed)
    # Fresh factorisation of the final basis; reprice every ray from it.
    st.factor(model)
    cond = float(np.linalg.cond(st.A))
    tight = tight_mask(model, st, tz)
    tight[ckinks] = False
    tight[st.B] = True
    # Kinks within the kink tolerance of zero but not at zero at the exact vertex are settled first.
    # If the ray test then fails, the descending ray is one that moves a settled kink (within the
    # tolerance of zero) towards zero: it crosses it after a distance of the order of the tolerance,
    # below what the float walk resolves.  The tolerance's view of the vertex (those kinks at zero)
    # is kept then, and the reason says so.
    settled = tight.copy()
    n_settled = settle_extra_kinks(model, st.signs, st.B, settled)
    rt = _ray_test(model, st, tz, t, settled if n_settled else tight, collapsed, cond)
    unresolved = 0
    if n_settled and not rt.ray_ok:
        unresolved, n_settled = n_settled, 0
        rt = _ray_test(model, st, tz, t, tight, collapsed, cond)
    elif n_settled:
        tight = settled
    pr, live, ray_ok, min_live, margin = rt.pricing, rt.live, rt.ray_ok, rt.min_live, rt.margin
    degenerate, borderline, n_exact = rt.degenerate, rt.borderline, rt.n_exact
    log.pricing = pr
    # The cells meeting at the vertex, as far as the live units are concerned: the collapsed units' kinks
    # (their basis kinks too) are left out, since with their blocks held at zero their signs change
    # neither the cell nor its LP.
    hidden_tight = tight[: model.n_hidden_kinks].copy()
    hidden_tight[ckinks] = False
    tight_hidden = np.flatnonzero(hidden_tight)
    radius = t.cell_radius * max(1.0, float(np.max(np.abs(st.theta))))
    exhaustive = max(max_cells, degenerate_cap) if degenerate else max_cells
    unchecked = CellCheck(float(tight_hidden.size), 0, 0, False, False, math.nan, None, 0)

    def run_cells() -> CellCheck:
        if not (ray_ok or log.status == DRSStatus.LOCAL_MINIMUM):
            return unchecked
        return check_cells(
            model,
            st.theta,
            st.signs,
            tight_hidden,
            st.loss,
            max_cells=exhaustive,
            seed=seed,
            radius=radius,
            tol=t,
            backend=backend,
            sample_size=max_cells,
            fixed_cols=frozen,
            poll=poll,
            at_zero=tz,
        )

    # Loss 0 is the global minimum of an L1 / quantile loss: decided exactly at the vertex of the basis,
    # whatever the ray test and the cells say (a cheap float filter first: every residual within the kink
    # tolerance of zero).
    zero_loss = bool(
        model.mode == "layer"
        and st.loss <= float(np.sum(model.c)) * tz + loss_error_bound(model, st.theta)
        and exact_vertex_loss_is_zero(model, st.signs, st.B)
    )

    def search_units(
        live_ok: bool, restart: NDArray[np.float64] | None
    ) -> tuple[list[CollapsedUnit], NDArray[np.float64] | None, bool]:
        """Collapsed units: exact slopes of their own rays, then the bounded revival search."""
        units: list[CollapsedUnit] = []
        revived = False
        full = tight_mask(model, st, tz)
        pr_all = price_rays(model, st, tz, t.pivot, tight=full, collapsed=collapsed, price_pinned=True)
        ns_all = pr_all.slopes / pr_all.norms
        layer_B, _, unit_B = st.dec
        for u in collapsed:
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
                collapsed,
                np.setdiff1d(tight_hidden, ckinks),
                ray_dirs=pr_all.rays[rows],
                n_directions=revival_directions,
                seed=seed,
                radius=radius,
                tol=t,
                backend=backend,
                poll=poll,
                at_zero=tz,
            )
            if found.best_x is not None:
                units.append(CollapsedUnit(u, REVIVED, found.cells, ms))
                restart, revived = found.best_x, True
            else:
                units.append(CollapsedUnit(u, f"no descent found in {found.cells} cells", found.cells, ms))
        return units, restart, revived

    # With collapsed units at a non-degenerate vertex whose exact ray test passed, the live units are
    # proved at a local minimum by the rays alone (the cells only cross-check), so the revival search
    # runs first; when it switches a unit back on, the walk goes on from there and this certificate is
    # superseded: the cell cross-check is skipped (the certificate says so, and is not certified).
    units: list[CollapsedUnit] = []
    revived = False
    restart: NDArray[np.float64] | None = None
    revive_first = bool(collapsed and ray_ok and not borderline and not degenerate and not zero_loss)
    if revive_first:
        units, restart, revived = search_units(True, None)
    cells = unchecked if revived else run_cells()
    # Degenerate vertex with more incident cells than HiGHS decides one by one: decide local
    # minimality from the directional derivative instead (lpengine.simplex.degenerate: one LP per
    # choice of its concave terms, not one per cell); the sampled cells remain a cross-check.
    slopes: SlopeCheck | None = None
    if degenerate and cells.sampled and ray_ok:
        slope_tight = tight.copy()
        slope_tight[ckinks] = False
        slopes = decide_by_slopes(
            model,
            st.theta,
            st.signs,
            slope_tight,
            st.loss,
            max_branches=exhaustive,
            radius=radius,
            tol=t,
            backend=backend,
            fixed_cols=frozen,
            poll=poll,
        )
    decided = not degenerate or not cells.sampled or (slopes is not None and slopes.decided)
    slopes_ok = slopes is None or slopes.ok
    certified = bool(ray_ok and not borderline and cells.ok and slopes_ok and decided)
    restart_ok = not zero_loss
    if zero_loss:
        certified, borderline = True, False
    if not revived:
        lower = cells.best_x if cells.best_x is not None else (slopes.best_x if slopes is not None else None)
        restart = lower if ray_ok and restart_ok else None
        if collapsed and not revive_first:
            units, restart, revived = search_units(ray_ok and cells.ok, restart)
    kind = "revive" if revived else "escape"
    scope = "all parameters" if not collapsed else "live units"
    n_rays = int(np.count_nonzero(live))
    if zero_loss:
        scope = "all parameters"
        reason = (
            "global minimum: the loss is exactly 0 at the vertex of the final basis (solved and evaluated in "
            "exact rationals), and an L1 / quantile loss is never negative"
        )
    elif certified:
        how = "all" if not cells.sampled else f"a seeded sample of {cells.checked}"
        reason = (
            f"no descending edge among the {n_rays} rays"
            + (f" of the live units (units {collapsed} collapsed to exact zero)" if collapsed else "")
            + (f" ({n_exact} slope(s) within the rounding margin rechecked in exact rationals)" if n_exact else "")
            + (
                f"; {n_settled} kink(s) within the kink tolerance shown non-zero at the exact vertex"
                if n_settled
                else ""
            )
            + f"; HiGHS confirmed {how} of 2^{tight_hidden.size} incident hidden cell(s)"
            + (f"; {_slope_summary(slopes)}" if slopes is not None else "")
        )
    elif not ray_ok:
        reason = f"a descending edge remains (normalised slope {min_live:.3g})"
    elif borderline:
        reason = (
            f"borderline: the smallest ray slope {min_live:.3g} is within the rounding margin {margin:.3g} "
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
        reason = (
            f"undecided: degenerate vertex ({pr.extra_tight.size} extra kinks at zero) with "
            f"2^{tight_hidden.size} incident hidden cells, more than the cap of {exhaustive} that HiGHS "
            f"decides exhaustively; a seeded sample of {cells.checked} passed"
            + (
                (
                    f"; the directional-derivative test found no descent, but the lower bound 0 of "
                    f"{slopes.unproved} of its {slopes.lps} LP(s) could not be proved in exact rationals"
                    if slopes.unproved
                    else f"; the directional-derivative test needs 2^{slopes.log2_branches:.3g} LPs, more than that cap"
                    if math.isfinite(slopes.log2_branches)
                    else "; the directional-derivative test needs more LPs than that cap"
                )
                if slopes is not None
                else ""
            )
        )
    if unresolved:
        reason += (
            f" [{unresolved} kink(s) counted at zero by the kink tolerance are non-zero at the exact vertex, and "
            "with them off zero a ray that moves one of them towards zero descends (it reaches it after a distance "
            "of the order of the tolerance, below the walk's float resolution); "
            "decided with the tolerance's kinks at zero]"
        )
    cert = DRSCertificate(
        ray_test=ray_ok,
        n_rays=n_rays,
        min_slope=min_live,
        degenerate=degenerate,
        n_tight_hidden=int(tight_hidden.size),
        log2_cells=float(tight_hidden.size),
        n_cells_checked=int(cells.checked),
        n_cells_infeasible=int(cells.infeasible),
        sampled=bool(cells.sampled),
        sample_seed=seed if cells.sampled else None,
        lp_confirmed=bool(cells.ok),
        max_lp_gap=float(cells.max_gap),
        box_radius=radius,
        basis=tuple(int(b) for b in st.B),
        duals=frozen_array(pr.duals),
        certified=certified,
        reason=reason,
        scope=scope,
        collapsed_units=tuple(units),
        slope_margin=float(margin),
        exact_rays=n_exact,
        settled_kinks=n_settled,
        zero_loss=zero_loss,
    )
    return cert, restart, kind


def settle_extra_kinks(
    model: LayerwiseModel, signs: NDArray[np.int8], B: NDArray[np.int64], tight: NDArray[np.bool_]
) -> int:
    """Drop from ``tight`` (in place) the kinks outside the basis that are not at zero at the exact vertex.

    The walk counts a kink as at zero when ``|z| <= tol.kink * scale``, a tolerance on raw values
    (scaled by the start point's largest kink value); a kink of value ``-2e-8`` can be "tight" by
    it although it is plainly non-zero.  Such a kink makes the vertex look degenerate, and the
    certificate then needs every incident cell.  Here each extra kink is evaluated in exact
    rationals at the exact vertex of the basis (:func:`~lpengine.simplex.exact.exact_kink_values`);
    one that is non-zero *and* on its tracked side there is not at zero, whatever the tolerance,
    and is dropped.  A kink on the untracked side stays (the tracked cell then does not contain
    the vertex, and the cell LPs must see both sides), and so does every extra kink of the same
    group downstream of it (its exact value under the tracked masks need not be the true one).
    Kinks are processed in layer order.  Returns the number dropped.
    """
    if model.mode != "layer":
        return 0
    inB = np.zeros(tight.size, dtype=bool)
    inB[B] = True
    extra = np.flatnonzero(tight & ~inB)
    if extra.size == 0:
        return 0
    lay, grp, _ = model.decode(extra)
    order = np.lexsort((extra, lay))
    extra, lay, grp = extra[order], lay[order], grp[order]
    vals = exact_kink_values(model, signs, B, extra)
    if vals is None:
        return 0
    kept: dict[int, int] = {}  # group -> shallowest layer of a kept extra kink
    dropped = 0
    for k, l, g, v in zip(extra.tolist(), lay.tolist(), grp.tolist(), vals, strict=True):
        blocked = g in kept and kept[g] < l
        if v != 0 and (v > 0) == (signs[k] > 0) and not blocked:
            tight[k] = False
            dropped += 1
        else:
            kept.setdefault(g, l)
    return dropped


@dataclass(frozen=True)
class RayTest:
    """The complete edge-ray test at a vertex for one choice of the kinks at zero (internal)."""

    pricing: Pricing
    live: NDArray[np.bool_]
    ray_ok: bool
    min_live: float
    margin: float
    degenerate: bool
    borderline: bool
    n_exact: int


def _ray_test(
    model: LayerwiseModel,
    st: Vertex,
    tz: float,
    t: Tolerances,
    tight: NDArray[np.bool_],
    collapsed: list[int],
    cond: float,
) -> RayTest:
    """Price every ray with the kinks ``tight`` at zero; recheck slopes within the rounding margin exactly."""
    pr = price_rays(model, st, tz, t.pivot, tight=tight.copy(), collapsed=collapsed)
    live = pr.live if pr.live is not None else np.ones(pr.slopes.size, dtype=bool)
    ns = pr.slopes / pr.norms
    thr = -t.slope * pr.scale
    min_live = float(np.min(ns[live])) if np.any(live) else math.inf
    ray_ok = bool(min_live >= thr)
    # Rounding margin of the normalised slopes: a linear solve with A loses about cond(A) * eps
    # relative accuracy (Higham, ch. 7), on slopes of magnitude up to ``scale``.
    margin = 8.0 * model.D * np.finfo(float).eps * cond * pr.scale
    degenerate = bool(pr.extra_tight.size > 0)
    # At a degenerate vertex the ray test is not the proof (HiGHS on every incident cell is), so a
    # slope within the rounding margin of zero does not matter there.
    borderline = bool(ray_ok and not degenerate and min_live < margin)
    n_exact = 0
    if borderline:
        # Exact rational recheck of the rays whose float slope is within the margin of zero.
        rays_b = np.flatnonzero(live & (ns < margin)).tolist()
        exact = exact_ray_slopes(model, st.theta, st.signs, st.B, rays_b)
        if exact is not None:
            n_exact = len(exact)
            neg = [r for r, v in exact.items() if v < 0]
            borderline = False
            if neg:
                ray_ok = False
                min_live = min(float(exact[r]) / float(pr.norms[r]) for r in neg)
    return RayTest(pr, live, ray_ok, min_live, float(margin), degenerate, borderline, n_exact)


def _slope_summary(slopes: SlopeCheck) -> str:
    """One phrase on the directional-derivative test (:mod:`lpengine.simplex.degenerate`)."""
    verdict = "no descent" if slopes.ok else "a descent"
    return (
        f"directional-derivative test: {verdict} in {slopes.lps} LP(s) ({slopes.proved} with the lower bound 0 "
        f"proved in exact rationals; {slopes.n_concave} concave term(s), "
        f"{slopes.n_enumerated} group(s) enumerated by cones; min L' over the unit box {slopes.min_value:.3g})"
    )
