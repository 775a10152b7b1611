"""Local minimality at a degenerate vertex from the directional derivative, without the ``2^k`` cells.

Mathematics.  ``L`` is piecewise affine, so near a point ``theta*`` it equals its first-order
expansion: ``L(theta* + e) = L(theta*) + L'(theta*; e)`` for all small ``e``, where
``L'(theta*; e)`` is the one-sided directional derivative, a positively homogeneous piecewise
linear function of ``e``.  Hence ``theta*`` is a local minimum iff ``L'(theta*; e) >= 0`` for every
``e``.  The one-sided forward pass (reference notes ``deep_relu_simplex.md`` §5.1) writes
``L'(theta*; e) = sum over samples c_s rho'(r_s; r'_s(e))`` with ``r'_s(e)`` the sample's output rate
under the one-sided ReLU rule at its kinks at zero.  Grouping the terms by feature row (group):

* a group with no kink at zero is linear in ``e`` (under its tracked masks): ``g . e``;
* a group with residuals at zero but no hidden kink at zero: its output rate ``n . e`` is linear,
  and each zero residual adds ``c_s (w_plus (n.e)_+ + w_minus (n.e)_-)``, a **convex** atom;
* a group whose hidden kinks at zero all lie in one layer ``l`` and whose residuals are non-zero:
  every such kink has a linear rate ``q_k . e`` (the layers below are fixed), the layers above are
  fixed, so the output rate is linear plus ``sum_k S_k (max(q_k . e, 0) - m_k q_k . e)`` with
  ``S_k = d out / d a_k`` and ``m_k`` the tracked mask; times the group's loss weight ``w`` this is
  linear plus atoms ``gamma_k max(q_k . e, 0)``, ``gamma_k = w S_k``: convex if ``gamma_k >= 0``,
  **concave** otherwise;
* any other group (kinks at zero in several layers of one sample, or hidden kinks and a residual at
  zero together) is *enumerated*: for each sign choice ``sigma`` of its hidden kinks at zero its
  term is linear (plus convex residual atoms) on the polyhedral cone where the one-sided pass
  produces ``sigma``.

A concave atom ``gamma max(x, 0) = min(gamma x, 0)`` (``gamma < 0``) splits the condition
conjunctively: ``F + min(gamma x, 0) >= 0`` everywhere iff ``F + gamma x >= 0`` and ``F >= 0``
everywhere.  So ``L' >= 0`` iff, for every choice (each concave atom replaced by its linear piece
or by 0, each enumerated group by one of its cones), the resulting **convex** positively
homogeneous function is ``>= 0`` on its cone; and a convex positively homogeneous function ``p``
is ``>= 0`` on a cone ``K`` iff ``min {p(e) : e in K, |e|_inf <= 1} = 0``: one LP per choice, with
``|n.e|`` and ``max(q.e, 0)`` linearised by the usual epigraph variables (the LP dual is the
subdifferential condition ``0 in dp(0) + K*``, the Barrodale–Roberts dual-weight test in general
form).  The number of LPs is ``2^(concave atoms) * prod 2^(kinks of enumerated groups)`` instead
of ``2^(hidden kinks at zero)``; the convex atoms cost nothing.

The decision follows the same rule as the cell LPs of :func:`~lpengine.simplex.certificate.check_cells`:
an LP whose optimum is negative gives a direction ``e``; a step along it whose loss, evaluated with
true ReLUs, is below ``L(theta*)`` by more than the rounding-error bound of the two evaluations
(:func:`~lpengine.simplex.collapse.loss_error_bound`) refutes the vertex and is returned as a
restart point.  Columns listed as fixed (the blocks of collapsed units) are held at zero in ``e``:
the answer is then about the live units.

Exact lower bounds.  A pass needs every LP's optimum to be 0, and ``e = 0`` (all epigraph
variables 0) is always feasible with value 0, so only the lower bound ``>= 0`` needs proof.  By
weak duality it holds iff some row multipliers ``y`` (``y >= 0`` on the inequality rows ``s >= R e``
and ``cone @ e >= 0``, free on the equalities ``u - v = A e``) make the reduced costs ``z = c - A^T y``
vanish on every free ``e`` column and be ``>= 0`` on the epigraph columns ``u, v, s``: this is
``0 in dp(0) + K*`` in the LP's variables, and exactly the statement "``x = 0`` is optimal, certified
by ``y``", which :func:`~lpengine.lp.exact.check_lp_optimum` checks in rationals on the LP's float64
data read exactly.  The multipliers are tried cheapest first: HiGHS's float duals as they are (they
pass when the data are dyadic and the answer is clean), the duals of HiGHS's final basis re-solved in
rationals (:func:`~lpengine.lp.exact.verify_basis`), and, for LPs of at most ``exact_max_entries``
matrix entries, the exact simplex (:func:`~lpengine.lp.exact.solve_exact`).  A branch none of them
proves, or whose exact optimum is negative, is *unproved*: the test is then undecided (a negative
float optimum whose loss step shows no strict descent, formerly passed as LP noise, is undecided
too unless its 0 lower bound is proved).  What is exact is the LP on its float64 rows; the rows
themselves (the sensitivities ``n``, ``q`` and weights of the atoms) are float computations,
exact only where the network, data and point are dyadic with few enough bits.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ..lp import LinearProgram, LPBasis, LPResult, LPStatus, open_solver
from ..lp.exact import ExactStatus, RationalVector, check_lp_optimum, solve_exact, verify_basis
from ..tolerances import Tolerances
from .collapse import loss_error_bound
from .model import LayerwiseModel

logger = logging.getLogger(__name__)

__all__ = ["SlopeTerms", "SlopeCheck", "slope_terms", "branch_lp", "decide_by_slopes", "prove_zero_lower_bound"]


@dataclass(frozen=True)
class Branch:
    """One sign choice of an enumerated group: its linear term, residual atoms and cone rows."""

    linear: NDArray[np.float64]  # (D,)
    abs_rows: NDArray[np.float64]  # (j, D)
    abs_lo: NDArray[np.float64]  # (j,)  multiplier interval [lo, hi] of c (w_plus (x)_+ + w_minus (x)_-)
    abs_hi: NDArray[np.float64]
    cone: NDArray[np.float64]  # (k, D): the cone is {e : cone @ e >= 0}


@dataclass(frozen=True)
class SlopeTerms:
    """``L'(theta*; e)`` as linear, convex and concave atoms plus enumerated groups (see module docstring).

    Attributes
    ----------
    linear : ndarray, shape (D,)
        Gradient of every linear part.
    abs_rows, abs_lo, abs_hi
        Convex residual atoms ``hi (n.e)_+ - lo (n.e)_-`` (``lo = -c w_minus``, ``hi = c w_plus``).
    relu_rows, relu_coef
        Atoms ``gamma max(q.e, 0)``: convex where ``gamma >= 0``, concave where ``gamma < 0``.
    groups : list of list of Branch
        Enumerated groups, each a list of its sign choices.
    """

    linear: NDArray[np.float64]
    abs_rows: NDArray[np.float64]
    abs_lo: NDArray[np.float64]
    abs_hi: NDArray[np.float64]
    relu_rows: NDArray[np.float64]
    relu_coef: NDArray[np.float64]
    groups: list[list[Branch]] = field(default_factory=list)

    @property
    def n_concave(self) -> int:
        """Number of concave atoms."""
        return int(np.count_nonzero(self.relu_coef < 0))

    @property
    def log2_branches(self) -> float:
        """``log2`` of the number of convex subproblems (LPs)."""
        return float(self.n_concave + sum(math.log2(len(g)) for g in self.groups))

    def slope(self, e: NDArray[np.float64]) -> float:
        """``L'(theta*; e)`` from the atoms (an enumerated group takes the branch whose cone holds ``e``)."""
        v = float(self.linear @ e)
        x = self.abs_rows @ e
        v += float(self.abs_hi @ np.maximum(x, 0.0) - self.abs_lo @ np.maximum(-x, 0.0))
        v += float(self.relu_coef @ np.maximum(self.relu_rows @ e, 0.0))
        for grp in self.groups:
            br = max(grp, key=lambda b: float(np.min(b.cone @ e, initial=math.inf)))
            x = br.abs_rows @ e
            v += float(br.linear @ e) + float(br.abs_hi @ np.maximum(x, 0.0) - br.abs_lo @ np.maximum(-x, 0.0))
        return v


@dataclass(frozen=True)
class SlopeCheck:
    """Outcome of :func:`decide_by_slopes`.

    Attributes
    ----------
    decided : bool
        Every convex subproblem was formed and solved (False: more than ``max_branches`` of them,
        or an LP failed).
    ok : bool
        Decided, and no subproblem gave a direction of strictly lower loss: a local minimum.
    lps : int
        LPs solved.
    log2_branches : float
        ``log2`` of the number of convex subproblems.
    n_concave, n_enumerated : int
        Concave atoms, and groups enumerated by their cones.
    min_value : float
        Most negative LP optimum (``min L'`` over the box ``|e|_inf <= 1``; 0 at a local minimum up to
        LP noise).
    best_x : ndarray or None
        A point of strictly lower loss (internal layout) when one was found.
    failed : int
        LPs that ended neither optimal nor infeasible.
    proved : int
        LPs whose lower bound 0 was proved in exact rationals (see the module docstring).
    unproved : int
        LPs solved optimal, not refuted by a loss step, whose lower bound 0 could not be proved
        exactly (any such LP leaves the test undecided unless another LP refuted the vertex).
    proofs : dict of str to int
        How the proved LPs were proved: ``"float duals"``, ``"basis"``, ``"exact simplex"``.
    """

    decided: bool
    ok: bool
    lps: int
    log2_branches: float
    n_concave: int
    n_enumerated: int
    min_value: float
    best_x: NDArray[np.float64] | None
    failed: int
    proved: int = 0
    unproved: int = 0
    proofs: dict[str, int] = field(default_factory=dict)


def slope_terms(
    model: LayerwiseModel, signs: NDArray[np.int8], tight: NDArray[np.bool_], max_enumerated: int = 1 << 12
) -> SlopeTerms | None:
    """Decompose ``L'(theta*; .)`` at a point with tracked ``signs`` and kinks ``tight`` at zero.

    Every kink outside ``tight`` must be non-zero at the point and on its tracked side.  Returns
    None when an enumerated group would have more than ``max_enumerated`` sign choices.
    """
    nhk, K, lw = model.n_hidden_kinks, model.K, model.loss
    masks = model.masks(signs)
    th = np.flatnonzero(tight[:nhk])
    tr = np.flatnonzero(tight[nhk:] & model.kink_mask[nhk:])
    _, th_g, _ = model.decode(th)
    C = np.unique(np.concatenate([th_g, model.group[tr]])).astype(np.int64)
    rs = signs[nhk:]
    rho = model.c * np.where(rs > 0, lw.w_plus, -lw.w_minus)
    gbar = np.asarray(np.bincount(model.group, weights=rho, minlength=model.G), dtype=np.float64)
    Zbar = model.zbar(gbar, masks)
    linear = model.z0_grad(Zbar) - model.z0_grad_rows(Zbar[C], C)
    rtight = np.zeros(model.N, dtype=bool)
    rtight[tr] = True
    abs_rows: list[NDArray[np.float64]] = []
    abs_lo: list[float] = []
    abs_hi: list[float] = []
    relu_rows: list[NDArray[np.float64]] = []
    relu_coef: list[float] = []
    groups: list[list[Branch]] = []
    for g in C.tolist():
        samp, _ = model.samples_of(np.array([g], dtype=np.int64))
        zero = samp[rtight[samp]]
        rest = samp[~rtight[samp]]
        w = float(np.sum(rho[rest]))
        hid = th[th_g == g]
        rid = np.array([nhk + int(samp[0])], dtype=np.int64)
        lay = model.kink_layer[hid]
        if hid.size == 0 or (zero.size == 0 and np.unique(lay).size == 1 and K > 0):
            rows, pre, _ = model.sensitivities(np.concatenate([rid, hid]), masks)
            linear = linear + w * rows[0]
            for s in zero.tolist():
                abs_rows.append(rows[0])
                abs_lo.append(-float(model.c[s]) * lw.w_minus)
                abs_hi.append(float(model.c[s]) * lw.w_plus)
            if hid.size:
                l_ = int(lay[0])
                units = model.kink_unit[hid]
                P = pre[l_]
                assert P is not None  # every layer below the residual has its row
                S = P[0, units]
                m = masks[l_][g, units]
                for q, s_k, m_k in zip(rows[1:], S, m, strict=True):
                    linear = linear - w * s_k * float(m_k) * q
                    relu_rows.append(q)
                    relu_coef.append(w * float(s_k))
            continue
        if hid.size > math.log2(max_enumerated):
            return None
        branches: list[Branch] = []
        units = model.kink_unit[hid]
        for choice in itertools.product((1, -1), repeat=hid.size):
            ms = [mk.copy() for mk in masks]
            for l_, u, sg in zip(lay.tolist(), units.tolist(), choice, strict=True):
                ms[l_][g, u] = sg > 0
            rows, _, _ = model.sensitivities(np.concatenate([rid, hid]), ms)
            n_out = rows[0]
            branches.append(
                Branch(
                    linear=w * n_out,
                    abs_rows=np.array([n_out] * zero.size).reshape(zero.size, model.D),
                    abs_lo=-model.c[zero] * lw.w_minus,
                    abs_hi=model.c[zero] * lw.w_plus,
                    cone=np.asarray(choice, dtype=np.float64)[:, None] * rows[1:],
                )
            )
        groups.append(branches)
    D = model.D
    return SlopeTerms(
        linear=linear,
        abs_rows=np.array(abs_rows).reshape(len(abs_rows), D),
        abs_lo=np.array(abs_lo, dtype=np.float64),
        abs_hi=np.array(abs_hi, dtype=np.float64),
        relu_rows=np.array(relu_rows).reshape(len(relu_rows), D),
        relu_coef=np.array(relu_coef, dtype=np.float64),
        groups=groups,
    )


def branch_lp(
    linear: NDArray[np.float64],
    abs_rows: NDArray[np.float64],
    abs_lo: NDArray[np.float64],
    abs_hi: NDArray[np.float64],
    relu_rows: NDArray[np.float64],
    relu_coef: NDArray[np.float64],
    cone: NDArray[np.float64],
    fixed: NDArray[np.bool_],
) -> LinearProgram:
    """The LP of one convex subproblem: ``min p(e)`` over a cone, normalised by the box.

    ``min linear.e + sum(hi u - lo v) + sum(gamma s)`` over ``|e|_inf <= 1`` (fixed columns 0) with
    ``u - v = A e``, ``u, v >= 0``, ``s >= R e``, ``s >= 0`` and ``cone @ e >= 0``.

    Parameters
    ----------
    linear : ndarray, shape (D,)
    abs_rows : ndarray, shape (j, D)
        ``A``: rows ``n`` of the residual atoms ``hi (n.e)_+ - lo (n.e)_-``.
    abs_lo, abs_hi : ndarray, shape (j,)
    relu_rows : ndarray, shape (k, D)
        ``R``: rows ``q`` of the convex atoms ``gamma max(q.e, 0)``.
    relu_coef : ndarray, shape (k,)
        ``gamma >= 0``.
    cone : ndarray, shape (c, D)
    fixed : ndarray of bool, shape (D,)
        Columns held at zero.

    Returns
    -------
    LinearProgram
        Columns ``(e, u, v, s)``; rows ``(u - v - A e = 0, s - R e >= 0, cone @ e >= 0)``.
    """
    D = linear.size
    j, k, c = abs_rows.shape[0], relu_rows.shape[0], cone.shape[0]
    n = D + 2 * j + k
    cost = np.concatenate([linear, abs_hi, -abs_lo, relu_coef])
    blocks = [
        sp.hstack([sp.csr_array(-abs_rows), sp.eye_array(j), -sp.eye_array(j), sp.csr_array((j, k))]),
        sp.hstack([sp.csr_array(-relu_rows), sp.csr_array((k, 2 * j)), sp.eye_array(k)]),
        sp.hstack([sp.csr_array(cone), sp.csr_array((c, 2 * j + k))]),
    ]
    A = sp.vstack(blocks).tocsc()
    lo = np.concatenate([np.zeros(j), np.zeros(k), np.zeros(c)])
    hi = np.concatenate([np.zeros(j), np.full(k, np.inf), np.full(c, np.inf)])
    cl = np.concatenate([np.where(fixed, 0.0, -1.0), np.zeros(2 * j + k)])
    cu = np.concatenate([np.where(fixed, 0.0, 1.0), np.full(2 * j + k, np.inf)])
    assert A.shape == (j + k + c, n)
    return LinearProgram(c=cost, A=A, row_lower=lo, row_upper=hi, col_lower=cl, col_upper=cu)


def decide_by_slopes(
    model: LayerwiseModel,
    theta: NDArray[np.float64],
    signs: NDArray[np.int8],
    tight: NDArray[np.bool_],
    loss: float,
    *,
    max_branches: int,
    radius: float,
    tol: Tolerances,
    backend: str = "highs",
    fixed_cols: NDArray[np.int64] | None = None,
    poll: Callable[[], None] | None = None,
    exact_max_entries: int = 1 << 14,
) -> SlopeCheck:
    """Decide whether ``theta`` is a local minimum by one LP per convex subproblem of ``L'(theta; .)``.

    See the module docstring for the mathematics.  ``tight``: the kinks at zero (every other kink
    non-zero and on its tracked side); ``radius``: the largest step tried along a descending
    direction (halved until the loss is strictly lower, or below rounding); ``poll`` is called
    before every LP (the run's budget: it may raise); ``exact_max_entries``: the largest LP (rows
    times columns) handed to the exact simplex when neither HiGHS's duals nor its basis prove the
    LP's lower bound 0 exactly.
    """
    fixed = np.zeros(model.D, dtype=bool)
    if fixed_cols is not None and len(fixed_cols):
        fixed[fixed_cols] = True
    terms = slope_terms(model, signs, tight, max_enumerated=max_branches)
    if terms is None or terms.log2_branches > math.log2(max_branches):
        lb = math.inf if terms is None else terms.log2_branches
        return SlopeCheck(False, False, 0, lb, 0 if terms is None else terms.n_concave, 0, math.nan, None, 0)
    concave = np.flatnonzero(terms.relu_coef < 0)
    convex = np.flatnonzero(terms.relu_coef >= 0)
    err0 = loss_error_bound(model, theta)
    lps = failed = unproved = 0
    proofs: dict[str, int] = {}
    min_value = math.inf
    best_x, best_loss = None, loss
    D = model.D
    for on in itertools.product((False, True), repeat=concave.size):
        lin = terms.linear.copy()
        for a, flag in zip(concave.tolist(), on, strict=True):
            if flag:
                lin += terms.relu_coef[a] * terms.relu_rows[a]
        for pick in itertools.product(*[range(len(g)) for g in terms.groups]):
            brs = [g[i] for g, i in zip(terms.groups, pick, strict=True)]
            lin_b = lin + sum((b.linear for b in brs), np.zeros(D))
            abs_rows = np.vstack([terms.abs_rows] + [b.abs_rows for b in brs])
            abs_lo = np.concatenate([terms.abs_lo] + [b.abs_lo for b in brs])
            abs_hi = np.concatenate([terms.abs_hi] + [b.abs_hi for b in brs])
            cone = np.vstack([np.zeros((0, D))] + [b.cone for b in brs])
            lp = branch_lp(
                lin_b, abs_rows, abs_lo, abs_hi, terms.relu_rows[convex], terms.relu_coef[convex], cone, fixed
            )
            if poll is not None:
                poll()
            with open_solver(lp, backend=backend, tol=tol) as solver:
                res = solver.solve()
                basis = solver.get_basis() if res.status is LPStatus.OPTIMAL else None
            lps += 1
            if res.status is not LPStatus.OPTIMAL or res.x is None:
                failed += 1
                continue
            min_value = min(min_value, float(res.fun))
            if res.fun < 0:
                e = np.array(res.x[:D])
                e[fixed] = 0.0
                x, val = _descend(model, theta, e, radius, best_loss, err0)
                if x is not None:  # refuted: one point of strictly lower loss is enough
                    best_x, best_loss = x, val
                    break
            how = prove_zero_lower_bound(lp, res, basis, max_entries=exact_max_entries)
            if how is None:
                unproved += 1
                logger.debug("slope LP %d: lower bound 0 not proved exactly (float optimum %.3g)", lps, res.fun)
            else:
                proofs[how] = proofs.get(how, 0) + 1
        if best_x is not None:
            break
    decided = failed == 0 and (best_x is not None or unproved == 0)
    return SlopeCheck(
        decided=decided,
        ok=bool(decided and best_x is None),
        lps=lps,
        log2_branches=terms.log2_branches,
        n_concave=int(concave.size),
        n_enumerated=len(terms.groups),
        min_value=min_value,
        best_x=best_x,
        failed=failed,
        proved=sum(proofs.values()),
        unproved=unproved,
        proofs=proofs,
    )


def prove_zero_lower_bound(
    lp: LinearProgram, res: LPResult, basis: LPBasis | None, *, max_entries: int = 1 << 14
) -> str | None:
    """Prove ``min lp >= 0`` in exact rationals for a slope LP (:func:`branch_lp`), or say it could not.

    Every route ends in the same exact check, :func:`~lpengine.lp.exact.check_lp_optimum` of
    ``x = 0`` with multipliers ``y``: ``y >= 0`` on the inequality rows and reduced costs
    ``c - A^T y`` zero on the free ``e`` columns, ``>= 0`` on the epigraph columns, i.e. the dual
    certificate ``0 in dp(0) + K*`` of the bound 0 (see the module docstring).

    Parameters
    ----------
    lp : LinearProgram
        A slope LP; its float64 data are read as exact rationals.
    res : LPResult
        The float solve of ``lp``; its ``row_duals`` are tried first, as they are.
    basis : LPBasis or None
        The float solve's final basis; its multipliers are re-solved in rationals
        (:func:`~lpengine.lp.exact.verify_basis`).
    max_entries : int
        When both fail and ``lp`` has at most this many matrix entries (rows times columns), the
        exact simplex (:func:`~lpengine.lp.exact.solve_exact`) decides.

    Returns
    -------
    str or None
        ``"float duals"``, ``"basis"`` or ``"exact simplex"``: the route whose multipliers passed
        the exact check; None when none did (the bound is unproved; the exact optimum may be
        negative).
    """
    zero = RationalVector((0,) * lp.n_cols, 1)
    if res.row_duals is not None and np.all(np.isfinite(res.row_duals)):
        if check_lp_optimum(lp, zero, RationalVector.from_floats(res.row_duals)).optimal:
            return "float duals"
    if basis is not None:
        found = verify_basis(lp, basis)
        if found.optimal and found.row_duals is not None and found.objective == 0:
            if check_lp_optimum(lp, zero, found.row_duals).optimal:
                return "basis"
    if lp.n_rows * lp.n_cols <= max_entries:
        sol = solve_exact(lp)
        chk = sol.check
        if sol.status is ExactStatus.OPTIMAL and chk is not None and chk.objective == 0 and chk.row_duals is not None:
            if check_lp_optimum(lp, zero, chk.row_duals).optimal:
                return "exact simplex"
    return None


def _descend(
    model: LayerwiseModel, theta: NDArray[np.float64], e: NDArray[np.float64], radius: float, loss: float, err0: float
) -> tuple[NDArray[np.float64] | None, float]:
    """A point ``theta + t e`` (``t = radius / 2^k``) whose loss is below ``loss`` beyond rounding, or None.

    Along a direction of negative one-sided slope the loss is ``L + t L'(e)`` for every small enough
    ``t``; the step is halved from ``radius`` until a strictly lower loss shows, for at most the 52
    halvings that float64 resolves.
    """
    t = radius
    for _ in range(53):
        x = theta + t * e
        val = model.loss_at(x)
        if val < loss - err0 - loss_error_bound(model, x):
            return x, val
        t *= 0.5
    return None, loss
