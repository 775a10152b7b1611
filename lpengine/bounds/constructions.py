"""Networks that attain the lower bounds: the constructions behind the lower-bound proofs.

Two families, each returned with the domain in which it is counted and the
number of regions it provably has there:

* :func:`folding_network` (Montúfar et al. 2014, Pascanu et al. 2013, Serra
  et al. Theorems 5 and 6): every hidden layer but the last folds each input
  coordinate; the last layer is a generic arrangement inside the unit cube.
* :func:`zonotope_network` (Arora et al. 2018, Serra et al. Theorem 7): the
  first layer computes ``t(x) = sum_i |g_i . x|``, constant-free on each of the
  cones cut by the central hyperplanes ``g_i . x = 0``; later layers fold ``t``.

The folds are written out here (derived for lpengine; the papers' own
constructions may differ in details).  A *fold* of ``[0, 1]`` with ``p``
units is a function ``g(u) = c + sum_i a_i relu(s_i (u - t_i))`` that maps each
of its ``q`` pieces affinely onto ``[0, 1]``, alternating ``0, 1, 0, ...`` at
the breakpoints:

* ``q = p``: one unit ``relu(u + 1)`` (active on all of ``[0, 1]``) supplies the
  slope of the first piece, the others break at ``k/p``;
* ``q = p + 1`` (needs ``p >= 3``): breakpoints ``t_1 < ... < t_p`` inside
  ``(0, 1)``, units 2 and 3 facing left (``s = -1``), the rest right.  With
  slopes ``σ_k`` on the pieces, ``a_k = σ_k - σ_{k-1}`` and the left-facing
  units force ``σ_0 = -(a_2 + a_3)``, i.e. ``σ_0 + σ_3 - σ_1 = 0``; alternating
  slopes ``±1/ℓ_k`` satisfy it when ``1/ℓ_3 = 1/ℓ_0 + 1/ℓ_1``, e.g. piece
  lengths ``(2h, 2h, h, h, ..., h)`` with ``h = 1/(p+3)``.  (With ``p = 2`` no
  sign choice works: every choice forces a zero or non-alternating slope.)

The coefficients are computed in exact rational arithmetic and converted
to float64 once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..exceptions import InvalidNetworkError
from ..network import ReLUNetwork
from ._arch import check_architecture, zaslavsky_sum

__all__ = ["Fold", "fold", "Construction", "folding_network", "zonotope_network"]


@dataclass(frozen=True)
class Fold:
    """``g(u) = offset + sum_i coef[i] * relu(sign[i] * (u - breaks[i]))`` with ``pieces`` onto-``[0, 1]`` pieces."""

    sign: tuple[int, ...]
    breaks: tuple[Fraction, ...]
    coef: tuple[Fraction, ...]
    offset: Fraction
    pieces: int
    nodes: tuple[Fraction, ...]  # 0 = nodes[0] < ... < nodes[-1] = 1: piece boundaries

    def __call__(self, u: Any) -> Any:
        u = np.asarray(u, dtype=float)
        out = float(self.offset) + 0 * u
        for s, t, a in zip(self.sign, self.breaks, self.coef, strict=True):
            out = out + float(a) * np.maximum(s * (u - float(t)), 0.0)
        return out


def fold(p: int, *, extra_piece: bool) -> Fold:
    """The fold of ``[0, 1]`` by ``p`` units into ``p`` pieces, or ``p + 1`` pieces (``extra_piece``, ``p >= 3``).

    >>> f = fold(3, extra_piece=True)
    >>> f.pieces, [round(float(f(float(t))), 12) + 0.0 for t in f.nodes]
    (4, [0.0, 1.0, 0.0, 1.0, 0.0])
    """
    if p < 1:
        raise InvalidNetworkError(f"a fold needs at least one unit; got p = {p}.")
    if extra_piece:
        if p < 3:
            raise InvalidNetworkError(f"a fold into p + 1 pieces needs p >= 3 units; got p = {p}.")
        h = Fraction(1, p + 3)
        lengths = [2 * h, 2 * h] + [h] * (p - 1)
        nodes = [Fraction(0)]
        for ell in lengths:
            nodes.append(nodes[-1] + ell)
        slopes = [(-1) ** k / ell for k, ell in enumerate(lengths)]
        sign = tuple(-1 if i in (1, 2) else 1 for i in range(p))  # 0-based units 1, 2 face left
        breaks = tuple(nodes[1:-1])
        coef = tuple(slopes[k + 1] - slopes[k] for k in range(p))
        if slopes[0] != -(coef[1] + coef[2]):  # the identity of the derivation above, in exact arithmetic
            raise RuntimeError(f"fold({p}): slope identity violated; this is a bug in lpengine.")
        offset = -(coef[1] * breaks[1] + coef[2] * breaks[2])  # g(0) = 0
        return Fold(sign, breaks, coef, offset, p + 1, tuple(nodes))
    grid = tuple(Fraction(k, p) for k in range(p + 1))
    breaks = (Fraction(-1),) + grid[1:-1]
    coef = (Fraction(p),) + tuple(Fraction(2 * p * (-1) ** k) for k in range(1, p))
    return Fold((1,) * p, breaks, coef, Fraction(-p), p, grid)


@dataclass(frozen=True)
class Construction:
    """A network attaining a lower bound, with where and how many regions it has.

    Attributes
    ----------
    net : ReLUNetwork
        Hidden layers only (``has_output_layer=False``), widths exactly as asked.
    box : tuple of float
        Count its regions in ``[box[0], box[1]]^n0``.
    regions : int
        Number of regions it provably has in that box (``exact=True``) or at
        least (``exact=False``).
    exact : bool
    certifies : tuple of str
        Names of the lower bounds (keys of :func:`~lpengine.bounds.all_bounds`)
        that are ``<= regions``.
    description : str
    """

    net: ReLUNetwork
    box: tuple[float, float]
    regions: int
    exact: bool
    certifies: tuple[str, ...]
    description: str


def _generic_arrangement(n0: int, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``m`` hyperplanes ``W u + b = 0`` in general position with every vertex inside ``[0.1, 0.9]^n0``."""
    W = rng.normal(size=(m, n0))
    c = np.full(n0, 0.5)
    b = -(W @ (c + 0.2 * rng.uniform(-1, 1, size=(m, n0))).T).diagonal()
    far = 0.0
    for idx in itertools.combinations(range(m), n0):
        v = np.linalg.solve(W[list(idx)], -b[list(idx)])
        far = max(far, float(np.abs(v - c).max()))
    if far > 0.4:  # shrink about c: u -> c + lam (u - c) keeps general position, moves vertices inside
        lam = 0.4 / far
        b = lam * b - (1 - lam) * (W @ c)
    return W, b


def folding_network(n0: int, widths: Any, *, seed: int = 0) -> Construction:
    """Folding construction: ``prod_{l<L} q_l**n0 * Z(n_L, <=n0)`` regions in ``[0, 1]^n0``.

    Layer ``l < L`` gives ``p_l = floor(n_l/n0)`` units to each coordinate,
    which fold it into ``q_l = p_l + 1`` pieces when ``p_l >= 3`` and
    ``q_l = p_l`` otherwise (unused units are dead).  Every cell of the
    first ``L-1`` layers is mapped affinely onto the cube, where the last
    layer's ``n_L`` hyperplanes (generic, all vertices inside) cut
    ``Z(n_L, <=n0)`` regions.  Requires every ``n_l >= n0`` for ``l < L``.

    It attains Montúfar et al. 2014 (``q_l >= p_l``), Pascanu et al. 2013,
    Serra et al. Theorem 6 (``p_l >= 3``) and, for ``n0 = 1``, Theorem 5.

    Examples
    --------
    >>> c = folding_network(1, [5, 5])
    >>> c.regions, c.exact, c.box
    (36, True, (0.0, 1.0))
    """
    n0, widths = check_architecture(n0, widths)
    if any(n < n0 for n in widths):
        raise InvalidNetworkError(f"folding_network needs every width >= n0 = {n0}; got widths {list(widths)}.")
    rng = np.random.default_rng(seed)
    Ws, bs = [], []
    # readout[c] = (coef over previous layer's units, offset): u_c = coef . h + offset
    readout = [(np.eye(n0)[c], 0.0) for c in range(n0)]
    prev_dim = n0
    regions = 1
    for n in widths[:-1]:
        p = n // n0
        f = fold(p, extra_piece=p >= 3)
        regions *= f.pieces**n0
        W = np.zeros((n, prev_dim))
        b = np.full(n, -1.0)  # dead units: zero row, bias -1
        new_readout = []
        for c in range(n0):
            rc, oc = readout[c]
            coef = np.zeros(n)
            for i in range(p):
                k = c * p + i
                s, t = f.sign[i], float(f.breaks[i])
                W[k] = s * rc
                b[k] = s * (oc - t)
                coef[k] = float(f.coef[i])
            new_readout.append((coef, float(f.offset)))
        Ws.append(W)
        bs.append(b)
        readout, prev_dim = new_readout, n
    n_last = widths[-1]
    A, beta = _generic_arrangement(n0, n_last, rng)
    R = np.stack([rc for rc, _ in readout])  # u = R h + o
    o = np.array([oc for _, oc in readout])
    Ws.append(A @ R)
    bs.append(A @ o + beta)
    regions *= zaslavsky_sum(n_last, n0)
    certifies = ["montufar2014_lower", "pascanu2013_lower"]
    if all(n >= 3 * n0 for n in widths):
        certifies.append("serra2018_thm6_lower")
    if n0 == 1 and all(n >= 3 for n in widths):
        certifies.append("serra2018_1d_exact")
    return Construction(
        net=ReLUNetwork(tuple(Ws), tuple(bs), has_output_layer=False),
        box=(0.0, 1.0),
        regions=regions,
        exact=True,
        certifies=tuple(certifies),
        description=f"folding network, n0={n0}, widths={list(widths)}",
    )


def zonotope_network(n0: int, widths: Any, *, extra_piece: bool, seed: int = 0) -> Construction:
    """Zonotope construction: at least ``2 Z(m-1, <=n0-1) * q**(L-1)`` regions in ``[-1, 1]^n0``.

    ``m = floor(n_1/2)``; the first layer computes ``t(x) = sum_{i<=m} |g_i . x|``
    with ``g_1..g_min(m,n0)`` the coordinate vectors and the rest random, so
    the ``2 Z(m-1, <=n0-1)`` open cones of the central arrangement each reach
    ``t >= 1`` inside the box; every later layer folds ``t`` with
    ``w = min(n_2..n_L)`` units into ``q = w`` pieces (Arora et al.) or
    ``q = w + 1`` (``extra_piece``, Serra et al. Theorem 7; needs ``w >= 3``).
    Values of ``t`` above 1 can add regions, so the count is a lower bound
    (``exact=False``).

    Examples
    --------
    >>> zonotope_network(2, [4, 4], extra_piece=True).regions
    20
    """
    n0, widths = check_architecture(n0, widths)
    m = widths[0] // 2
    if m < 1:
        raise InvalidNetworkError(f"zonotope_network needs n_1 >= 2; got widths {list(widths)}.")
    rng = np.random.default_rng(seed)
    G = np.vstack([np.eye(n0)[: min(m, n0)], rng.normal(size=(max(0, m - n0), n0))])
    n1 = widths[0]
    W1 = np.zeros((n1, n0))
    W1[:m], W1[m : 2 * m] = G, -G
    b1 = np.zeros(n1)
    b1[2 * m :] = -1.0  # dead
    Ws, bs = [W1], [b1]
    readout = (np.r_[np.ones(2 * m), np.zeros(n1 - 2 * m)], 0.0)  # t = sum of the 2m units
    regions = 2 * zaslavsky_sum(m - 1, n0 - 1)
    if len(widths) > 1:
        w = min(widths[1:])
        if extra_piece and w < 3:
            raise InvalidNetworkError(f"a (w+1)-piece fold needs w >= 3; got w = min(n_2..n_L) = {w}.")
        f = fold(w, extra_piece=extra_piece)
        prev = n1
        for n in widths[1:]:
            rc, oc = readout
            W = np.zeros((n, prev))
            b = np.full(n, -1.0)
            coef = np.zeros(n)
            for i in range(w):
                s, t = f.sign[i], float(f.breaks[i])
                W[i] = s * rc
                b[i] = s * (oc - t)
                coef[i] = float(f.coef[i])
            Ws.append(W)
            bs.append(b)
            readout, prev = (coef, float(f.offset)), n
            regions *= f.pieces
    name = "serra2018_thm7_lower" if extra_piece else "arora2018_lower"
    return Construction(
        net=ReLUNetwork(tuple(Ws), tuple(bs), has_output_layer=False),
        box=(-1.0, 1.0),
        regions=regions,
        exact=False,
        certifies=(name,),
        description=f"zonotope network ({'w+1' if extra_piece else 'w'}-piece folds), n0={n0}, widths={list(widths)}",
    )
