"""The Hinz–van de Geer histogram framework (arXiv:1806.01918; IEEE Trans. Inf. Theory 65(11), 2019).

Objects (definitions after the project's reference notes, ``region_bounds.md`` §3):

* a *histogram* is a vector ``v = (v_0, v_1, ...)`` of non-negative ints;
  ``v ⪯ w`` (dominance) iff every tail sum ``T_J(v) = sum_{j >= J} v_j`` is at
  most ``T_J(w)``;
* ``γ = (γ_{n,n'})`` assigns to a layer of ``n'`` units on an ``n``-dimensional
  input a histogram indexed by the number of *active* units ``0..n'``;
* the *rank bound* of a region of the first ``l`` layers is
  ``min(n0, |s_1|, ..., |s_l|)`` (``|s_k|`` = active units of layer ``k``); it
  bounds the dimension of the region's image ``h^l(R)``;
* ``B^{(γ)}_{n'}`` is the ``(n'+1) x (n'+1)`` matrix whose column ``d`` is
  ``cl_d(γ_{d,n'})`` (``cl_d`` adds every entry above ``d`` into ``d``);
  ``M_{n,n'}`` maps a rank-``d`` entry to ``min(d, n')``;
* the bound is ``‖B_{n_L} M_{n_{L-1},n_L} ... B_{n_1} M_{n0,n_1} e_{n0}‖_1``.

**Admissibility** (what :func:`check_gamma` verifies, and what it cannot):

1. (*domination*, the caller's responsibility: not checkable by computation)
   for every ReLU layer ``R^n -> R^{n'}`` and every ``J``, the number of its
   full-dimensional regions with at least ``J`` active units is at most
   ``T_J(γ_{n,n'})``;
2. (*monotonicity*, checked) ``γ_{n,n'} ⪯ γ_{n+1,n'}`` for ``0 <= n < n'``,
   with ``γ_{n,n'} := γ_{n',n'}`` for ``n > n'``; entries are ints ``>= 0``.

**Theorem** (proof written out here, since only reading notes of the paper
were available).  If γ is admissible, the number of full-dimensional
activation regions of any ReLU network with widths ``n_1..n_L`` on ``R^{n0}``
is at most the bound above, and after every layer ``l`` the histogram of
regions of the first ``l`` layers by rank bound is dominated by the
propagated vector ``v^{(l)}``.

*Proof.*  Let ``R`` be a region of the first ``l`` layers with rank bound
``d``.  On ``R`` the map ``h^l`` is affine; its image is a relatively open
subset ``U`` of a flat of dimension ``d' <= d``.  A region of the first
``l+1`` layers inside ``R`` is the preimage of a subset of ``U`` on which
layer ``l+1`` has one pattern; it is full-dimensional only if that subset is
open in the flat, i.e. contains a full-dimensional region of layer ``l+1``
restricted to the flat (a layer ``R^{d'} -> R^{n'}``).  Hence for ``J <= d``
the number of children of ``R`` with ``>= J`` active units is at most
``T_J(γ_{d',n'}) <= T_J(γ_{d,n'})`` (conditions 1, 2), and a child with ``a``
active units has rank bound ``min(d, a)``: the children's rank histogram is
dominated by ``cl_d(γ_{d,n'})``, column ``d`` of ``B``.  Summing over parents,
the rank histogram after layer ``l+1`` is dominated by ``φ(H^{(l)})`` with
``φ(v) = sum_d v_d col_d``.  By condition 2 the columns are ⪯-increasing in
``d``, so (Abel summation: ``φ(v) = sum_d T_d(v) (col_d - col_{d-1})``) ``φ``
is monotone for ⪯, and induction from ``H^{(0)} = e_{n0}`` gives
``H^{(l)} ⪯ v^{(l)}``; the total is ``T_0``, which dominance bounds.  ∎

Three choices of γ give back the classical bounds exactly (γ^(a): ``2**N``;
γ^(b): Montúfar 2017; γ^(c): Serra et al. Theorem 1); the tests compare them
with the direct formulas on hundreds of random architectures.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..exceptions import InvalidOptionError
from ._arch import binomial_row, check_architecture, zaslavsky_sum
from ._histogram import clip, dominates, tail_sums
from .activation_histograms import gamma_activation_counts

__all__ = [
    "Gamma",
    "gamma_all_patterns",
    "gamma_montufar2017",
    "gamma_serra2018",
    "resolve_gamma",
    "check_gamma",
    "tail_sums",
    "dominates",
    "clip",
    "transition_matrix",
    "dimension_matrix",
    "FrameworkResult",
    "framework_histograms",
    "upper_bound_hinz_vandegeer",
    "block_matrix",
    "upper_bound_blocks",
    "upper_bound_activation_counts",
]

#: ``gamma(n, n_prime) -> sequence of n_prime + 1 ints`` (histogram by active count).
Gamma = Callable[[int, int], Sequence[int]]


# ---------------------------------------------------------- the three classics
def gamma_all_patterns(n: int, n_prime: int) -> tuple[int, ...]:
    """γ^(a): every pattern, by active count, ``(C(n',0), ..., C(n',n'))`` (any ``n``).  Recovers ``2**N``.

    >>> gamma_all_patterns(2, 3)
    (1, 3, 3, 1)
    """
    return binomial_row(n_prime)


def gamma_montufar2017(n: int, n_prime: int) -> tuple[int, ...]:
    """γ^(b): Zaslavsky's total ``Z(n', <=n)`` placed at index ``n'``.  Recovers Montúfar 2017.

    >>> gamma_montufar2017(2, 3)
    (0, 0, 0, 7)
    """
    return (0,) * n_prime + (zaslavsky_sum(n_prime, n),)


def gamma_serra2018(n: int, n_prime: int) -> tuple[int, ...]:
    """γ^(c): ``C(n', j)`` at index ``n' - j`` for ``j <= min(n, n')``.  Recovers Serra et al. Theorem 1.

    Admissible: the regions with ``>= J`` active units number at most the
    patterns with ``<= n' - J`` inactive units, ``Z(n', <=n'-J)``, and at most
    Zaslavsky's ``Z(n', <=n)``; γ^(c)'s tail sum is ``Z(n', <=min(n, n'-J))``.

    >>> gamma_serra2018(1, 4), gamma_serra2018(2, 4)
    ((0, 0, 0, 4, 1), (0, 0, 6, 4, 1))
    """
    row = binomial_row(n_prime)
    out = [0] * (n_prime + 1)
    for j in range(min(n, n_prime) + 1):
        out[n_prime - j] = row[j]
    return tuple(out)


def _named_gammas() -> dict[str, Gamma]:
    return {
        "all_patterns": gamma_all_patterns,
        "montufar2017": gamma_montufar2017,
        "serra2018": gamma_serra2018,
        "activation_counts": gamma_activation_counts,
    }


def resolve_gamma(gamma: str | Gamma) -> tuple[Gamma, str]:
    """Return ``(callable, name)`` for a γ given by name or as a callable.

    Names: ``"all_patterns"`` (γ^(a)), ``"montufar2017"`` (γ^(b)),
    ``"serra2018"`` (γ^(c)), ``"activation_counts"``
    (:func:`~lpengine.bounds.gamma_activation_counts`).
    """
    named = _named_gammas()
    if isinstance(gamma, str):
        if gamma not in named:
            raise InvalidOptionError(
                f"The 'gamma' parameter must be one of {sorted(named)} or a callable gamma(n, n_prime). "
                f"Got {gamma!r} instead."
            )
        return named[gamma], gamma
    if not callable(gamma):
        raise InvalidOptionError(
            f"The 'gamma' parameter must be one of {sorted(named)} or a callable gamma(n, n_prime). "
            f"Got {gamma!r} of type {type(gamma).__name__}."
        )
    for k, fn in named.items():
        if fn is gamma:
            return gamma, k
    return gamma, getattr(gamma, "__name__", "custom")


def _gamma_value(gamma: Gamma, n: int, n_prime: int) -> tuple[int, ...]:
    raw = gamma(n, n_prime)
    try:
        vals = tuple(operator.index(x) for x in raw)
    except TypeError as exc:
        raise InvalidOptionError(f"gamma({n}, {n_prime}) must return ints; got {raw!r}.") from exc
    if len(vals) != n_prime + 1:
        raise InvalidOptionError(
            f"gamma({n}, {n_prime}) has length {len(vals)}; expected n_prime + 1 = {n_prime + 1} "
            "(one entry per active count 0..n_prime)."
        )
    if min(vals) < 0:
        raise InvalidOptionError(f"gamma({n}, {n_prime}) has a negative entry: {vals}.")
    if sum(vals) < 1:
        raise InvalidOptionError(f"gamma({n}, {n_prime}) sums to 0; a layer has at least one region.")
    return vals


def check_gamma(gamma: str | Gamma, n_prime: int, *, n_max: int | None = None) -> tuple[tuple[int, ...], ...]:
    """Validate γ for one width and return ``(γ_{0,n'}, ..., γ_{m,n'})``, ``m = min(n_max, n')``.

    Checks lengths, non-negative ints, a positive total and condition 2
    (``γ_{n,n'} ⪯ γ_{n+1,n'}``).  Condition 1 (domination of every layer's
    histogram) is a mathematical property that no computation can check.

    Raises
    ------
    InvalidOptionError
        (a ``ValueError``) naming the first violated condition.
    """
    fn, name = resolve_gamma(gamma)
    m = n_prime if n_max is None else min(n_max, n_prime)
    out = []
    prev_tails = None
    for n in range(m + 1):
        vals = _gamma_value(fn, n, n_prime)
        tails = tail_sums(vals)
        if prev_tails is not None:
            bad = [J for J, (a, b) in enumerate(zip(prev_tails, tails, strict=True)) if a > b]
            if bad:
                J = bad[0]
                raise InvalidOptionError(
                    f"gamma {name!r} is not monotone (condition 2): tail sum T_{J} of gamma({n - 1}, {n_prime}) "
                    f"is {prev_tails[J]} > {tails[J]} for gamma({n}, {n_prime})."
                )
        prev_tails = tails
        out.append(vals)
    return tuple(out)


# ------------------------------------------------------------------- matrices
def _columns(fn: Gamma, name: str, n_prime: int, n_max: int, cache: dict[Any, Any]) -> list[list[tuple[int, int]]]:
    """Sparse columns ``cl_d(γ_{d,n'})`` for ``d = 0..min(n_max, n')`` (validated, cached per call)."""
    key = (n_prime, min(n_max, n_prime))
    if key not in cache:
        gam = check_gamma(fn, n_prime, n_max=n_max)
        cols = []
        for d, g in enumerate(gam):
            c = clip(g, d)
            cols.append([(i, x) for i, x in enumerate(c) if x])
        cache[key] = cols
    return cache[key]


@dataclass(frozen=True)
class _Step:
    """One layer's ``v -> B M v`` in run-length form (rows of ``B`` are piecewise constant in ``d``)."""

    m: int  # largest input rank used (ranks above are clipped to m)
    n_prime: int
    diag: tuple[int, ...]  # B[i][i] = T_i(γ_{i,n'}) for i <= m
    runs: tuple[tuple[tuple[int, int, int], ...], ...]  # per row i: (d_lo, d_hi, value) with B[i][d] = value


def _step(fn: Gamma, name: str, n_prime: int, n_max: int, cache: dict[Any, Any]) -> _Step:
    """Validated γ table for one width turned into row runs (cached per call).

    Row ``i`` of ``B`` holds ``γ_{d,n'}[i]`` for ``d > i``; for every built-in γ
    it changes value only a few times as ``d`` grows, so with suffix sums of
    ``v`` each row costs a few big-integer operations instead of ``n'``.
    """
    m = min(n_max, n_prime)
    key = ("step", n_prime, m)
    if key not in cache:
        gam = check_gamma(fn, n_prime, n_max=m)
        diag = tuple(sum(gam[i][i:]) for i in range(m + 1))
        runs = []
        for i in range(m + 1):
            row: list[tuple[int, int, int]] = []
            d = i + 1
            while d <= m:
                val = gam[d][i]
                e = d
                while e + 1 <= m and gam[e + 1][i] == val:
                    e += 1
                if val:
                    row.append((d, e, val))
                d = e + 1
            runs.append(tuple(row))
        cache[key] = _Step(m=m, n_prime=n_prime, diag=diag, runs=tuple(runs))
    return cache[key]


def _apply(step: _Step, v: Sequence[int]) -> list[int]:
    """``B_{n'} M v`` for a rank vector ``v`` whose entries above ``step.m`` are clipped to ``step.m``."""
    m = step.m
    w = list(v[: m + 1]) + [0] * max(0, m + 1 - len(v))
    w[m] += sum(v[m + 1 :])
    suffix = [0] * (m + 2)  # suffix[d] = sum_{d' >= d} w[d']
    for d in range(m, -1, -1):
        suffix[d] = suffix[d + 1] + w[d]
    out = [0] * (step.n_prime + 1)
    for i in range(m + 1):
        acc = step.diag[i] * w[i]
        for lo, hi, val in step.runs[i]:
            acc += val * (suffix[lo] - suffix[hi + 1])
        out[i] = acc
    return out


def transition_matrix(n_prime: int, *, gamma: str | Gamma = "serra2018") -> tuple[tuple[int, ...], ...]:
    """``B^{(γ)}_{n'}`` as a tuple of rows: column ``d`` is ``cl_d(γ_{d,n'})``; upper triangular.

    >>> transition_matrix(3)
    ((1, 0, 0, 1), (0, 4, 3, 3), (0, 0, 4, 3), (0, 0, 0, 1))
    """
    _, (n_prime,) = check_architecture(1, [n_prime], name="n_prime")
    fn, name = resolve_gamma(gamma)
    cols = _columns(fn, name, n_prime, n_prime, {})
    rows = [[0] * (n_prime + 1) for _ in range(n_prime + 1)]
    for d, col in enumerate(cols):
        for i, x in col:
            rows[i][d] = x
    return tuple(tuple(r) for r in rows)


def dimension_matrix(n: int, n_prime: int) -> tuple[tuple[int, ...], ...]:
    """``M_{n,n'}``: ``(n'+1) x (n+1)``, entry ``(i, j) = 1`` iff ``i = min(j, n')``.

    >>> dimension_matrix(4, 2)
    ((1, 0, 0, 0, 0), (0, 1, 0, 0, 0), (0, 0, 1, 1, 1))
    """
    n, (n_prime,) = check_architecture(n, [n_prime], name="n_prime")
    return tuple(tuple(int(i == min(j, n_prime)) for j in range(n + 1)) for i in range(n_prime + 1))


@dataclass(frozen=True)
class FrameworkResult:
    """The framework's bound with its per-layer rank histograms.

    Attributes
    ----------
    bound : int
        ``‖v^{(L)}‖_1``, an upper bound on the number of regions.
    histograms : tuple of tuple of int
        ``histograms[l]`` = ``v^{(l+1)}`` (length ``n_{l+1} + 1``): entry ``d``
        bounds (in the dominance order) the number of regions of the first
        ``l+1`` layers with rank bound ``d``.
    layer_bounds : tuple of int
        ``‖v^{(l)}‖_1`` for ``l = 1..L``: bounds for the truncated networks.
    gamma : str
        Name of the γ used.
    """

    bound: int
    histograms: tuple[tuple[int, ...], ...]
    layer_bounds: tuple[int, ...]
    gamma: str


def framework_histograms(n0: int, widths: Any, *, gamma: str | Gamma = "serra2018") -> FrameworkResult:
    """Propagate ``e_{n0}`` through ``B_{n_l} M`` layer by layer (exact ints).

    Parameters
    ----------
    n0 : int
        Input dimension (>= 1).
    widths : sequence of int
        Hidden widths (each >= 1).
    gamma : str or callable, default "serra2018"
        A name (see :func:`resolve_gamma`) or ``gamma(n, n_prime)`` returning a
        histogram of length ``n_prime + 1``; condition 2 is checked for every
        ``(n, n_prime)`` used, condition 1 is the caller's responsibility.

    Returns
    -------
    FrameworkResult

    Raises
    ------
    InvalidNetworkError
        (a ``ValueError``) for a bad architecture.
    InvalidOptionError
        (a ``ValueError``) for an unknown or inadmissible γ.

    Notes
    -----
    Cost: each row of ``B`` is stored as runs of equal entries in ``d``; with
    suffix sums of ``v`` a layer costs ``O(n_l + #runs)`` big-integer
    operations (``O(n_l)`` for all built-in γ, against ``O(n_l**2)`` for a
    dense product).  The γ table is validated once per distinct width.

    Examples
    --------
    >>> r = framework_histograms(2, [3, 3, 3])
    >>> r.bound, r.histograms
    (208, ((0, 3, 4, 0), (0, 24, 16, 0), (0, 144, 64, 0)))
    """
    n0, widths = check_architecture(n0, widths)
    fn, name = resolve_gamma(gamma)
    cache: dict[Any, Any] = {}
    v: list[int] = [0] * n0 + [1]
    reach = n0
    hists, totals = [], []
    for n_prime in widths:
        v = _apply(_step(fn, name, n_prime, reach, cache), v)
        reach = min(reach, n_prime)
        hists.append(tuple(v))
        totals.append(sum(v))
    return FrameworkResult(bound=totals[-1], histograms=tuple(hists), layer_bounds=tuple(totals), gamma=name)


def upper_bound_hinz_vandegeer(n0: int, widths: Any, *, gamma: str | Gamma = "serra2018") -> int:
    """The framework's upper bound ``‖B_{n_L} M ⋯ B_{n_1} M e_{n0}‖_1`` (see :func:`framework_histograms`).

    References
    ----------
    P. Hinz, S. van de Geer, *A framework for the construction of upper bounds
    on the number of affine linear regions of ReLU feed-forward neural
    networks*, IEEE Trans. Inf. Theory 65(11), 2019 (arXiv:1806.01918).

    Examples
    --------
    >>> [upper_bound_hinz_vandegeer(2, [3, 3, 3], gamma=g) for g in ("all_patterns", "montufar2017", "serra2018")]
    [512, 343, 208]
    """
    return framework_histograms(n0, widths, gamma=gamma).bound


# ------------------------------------------------------ subnetwork composition
def block_matrix(d_in: int, widths: Any, *, gamma: str | Gamma = "serra2018") -> tuple[tuple[int, ...], ...]:
    """Block matrix of several layers: column ``d`` is the framework's histogram of the block on a rank-``d`` input.

    Shape ``(n_k + 1) x (d_in + 1)`` for a block of widths ``n_1..n_k``;
    column 0 is ``e_0`` times the block's bound for a constant input.  This
    is the product ``B_{n_k} M ... B_{n_1} M_{d_in,n_1}`` and so satisfies
    the block conditions of :func:`upper_bound_blocks`; a tighter block
    matrix must be derived separately (Hinz 2021 composes subnetworks for
    that reason; no tighter block matrix is derived in lpengine).

    >>> block_matrix(2, [3, 3])
    ((1, 0, 0), (0, 16, 24), (0, 0, 16), (0, 0, 0))
    """
    d_in, widths = check_architecture(d_in, widths, name="widths")
    fn, name = resolve_gamma(gamma)
    cache: dict[Any, Any] = {}
    cols = []
    for d in range(d_in + 1):
        v: list[int] = [0] * d + [1]
        reach = d
        for n_prime in widths:
            v = _apply(_step(fn, name, n_prime, reach, cache), v)
            reach = min(reach, n_prime)
        cols.append(v)
    n_out = widths[-1]
    return tuple(tuple(cols[d][i] for d in range(d_in + 1)) for i in range(n_out + 1))


def upper_bound_blocks(n0: int, blocks: Sequence[Sequence[Sequence[int]]]) -> int:
    """Compose block matrices: ``‖K_m M ⋯ K_1 M e_{n0}‖_1``.

    Parameters
    ----------
    n0 : int
        Input dimension.
    blocks : sequence of matrices
        Block ``k`` is a matrix (rows of ints) of shape ``(r_k + 1) x (c_k + 1)``
        whose column ``d`` dominates the rank-bound histogram of that block of
        layers on any input of dimension ``<= d`` (the caller's
        responsibility); ranks above ``c_k`` entering it are clipped to
        ``c_k`` (the ``M`` step).  Checked: ints ``>= 0``, rows of equal
        length, column ``d`` zero in rows ``> d`` (ranks never increase) and
        columns increasing in ⪯ (needed by the proof in the module
        docstring).

    Returns
    -------
    int

    Examples
    --------
    >>> upper_bound_blocks(2, [block_matrix(2, [3, 3]), block_matrix(2, [3])])
    208
    """
    n0 = check_architecture(n0, [1])[0]
    v: list[int] = [0] * n0 + [1]
    for k, K in enumerate(blocks):
        rows = [tuple(operator.index(x) for x in r) for r in K]
        if not rows or len({len(r) for r in rows}) != 1:
            raise InvalidOptionError(f"blocks[{k}] must be a non-empty matrix with rows of equal length.")
        n_cols = len(rows[0])
        cols = [tuple(r[d] for r in rows) for d in range(n_cols)]
        for d, col in enumerate(cols):
            if min(col) < 0:
                raise InvalidOptionError(f"blocks[{k}] column {d} has a negative entry.")
            if any(col[i] for i in range(d + 1, len(col))):
                raise InvalidOptionError(
                    f"blocks[{k}] column {d} has a non-zero entry in a row > {d}; ranks never increase."
                )
            if d and not dominates(col, cols[d - 1]):
                raise InvalidOptionError(f"blocks[{k}] column {d - 1} is not dominated by column {d}.")
        out = [0] * len(rows)
        for d, c in enumerate(v):
            if c:
                col = cols[min(d, n_cols - 1)]
                for i, x in enumerate(col):
                    out[i] += c * x
        v = out
    return sum(v)


def upper_bound_activation_counts(n0: int, widths: list[int] | tuple[int, ...]) -> int:
    """The framework bound with :func:`~lpengine.bounds.activation_histograms.gamma_activation_counts` (never above Serra et al.'s Theorem 1).

    Examples
    --------
    >>> upper_bound_activation_counts(2, [4, 4]), upper_bound_activation_counts(3, [4, 4, 4])
    (109, 1559)
    """
    return framework_histograms(n0, widths, gamma=gamma_activation_counts).bound
