"""Families of ill-conditioned ReLU networks, and the comparison of the fast path with the exact oracle.

Every generator takes a seed (all randomness from ``np.random.default_rng(seed)``) and the family's
parameters, and returns ``(net, domain)`` where ``domain`` is a keyword dict accepted by both
:func:`lpengine.regions.enumerate_regions` and :func:`lpengine.regions.brute.brute_force_regions`.
The exact oracle (``brute_force_regions(exact=True)``) decides every pattern in rational arithmetic,
so the families are free to be as degenerate as they like.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lpengine import ReLUNetwork
from lpengine.exceptions import LPEngineError
from lpengine.regions import enumerate_regions
from lpengine.regions.brute import brute_force_regions

__all__ = [
    "DOMAINS",
    "domain_kw",
    "Mismatch",
    "compare_with_oracle",
    "near_duplicate",
    "slab",
    "scaled",
    "thin_start",
    "near_face",
    "deep_near_parallel",
    "quantized",
    "near_concurrent",
    "deep_thin",
    "quantized_scaled",
    "near_polytope_face",
    "far_wedge",
    "FAMILIES",
]

DOMAINS = ("box", "polytope", "whole_space")


def domain_kw(kind: str, d: int) -> dict:
    """``box``: [-1, 1]^d; ``polytope``: the simplex x_i >= -1, sum x_i <= 1 (origin inside); R^d."""
    if kind == "box":
        return {"box": (-1.0, 1.0)}
    if kind == "polytope":
        A = np.vstack([-np.eye(d), np.ones((1, d))])
        c = np.concatenate([np.ones(d), [1.0]])
        return {"polytope": (A, c)}
    return {"whole_space": True}


def _net(weights: list[np.ndarray], biases: list[np.ndarray]) -> ReLUNetwork:
    return ReLUNetwork(
        tuple(np.asarray(w, float) for w in weights),
        tuple(np.asarray(b, float) for b in biases),
        has_output_layer=False,
    )


def _random(rng: np.random.Generator, d: int, widths: list[int]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    ws, bs, fan = [], [], d
    for w in widths:
        ws.append(rng.standard_normal((w, fan)) * np.sqrt(2.0 / fan))
        bs.append(rng.standard_normal(w) * 0.5)
        fan = w
    return ws, bs


@dataclass(frozen=True)
class Mismatch:
    """What differs between the fast path and the oracle (``None`` from :func:`compare_with_oracle` if nothing)."""

    reason: str
    fast_count: int | None
    exact_count: int


def compare_with_oracle(net: ReLUNetwork, domain: dict) -> Mismatch | None:
    """Run both; a mismatch unless the fast path is complete and finds exactly the oracle's patterns."""
    oracle = brute_force_regions(net, exact=True, max_units=net.n_hidden, **domain)
    try:
        res = enumerate_regions(net, **domain)
    except (LPEngineError, ValueError, ArithmeticError) as exc:
        return Mismatch(f"raised {type(exc).__name__}: {exc}", None, oracle.count)
    got = {tuple(int(s) for s in r.pattern.signs) for r in res.regions}
    want = set(oracle.patterns)
    if not res.complete:
        return Mismatch(f"incomplete ({res.message})", res.count, oracle.count)
    if got != want:
        return Mismatch(f"{len(want - got)} missing, {len(got - want)} extra", res.count, oracle.count)
    return None


# ---------------------------------------------------------------------------------------- families
def near_duplicate(
    seed: int, delta: float, *, d: int = 2, layer: int = 0, domain: str = "box"
) -> tuple[ReLUNetwork, dict]:
    """A [4, 3] net in which one unit of ``layer`` is a copy of another with its bias shifted by ``delta``."""
    rng = np.random.default_rng(seed)
    ws, bs = _random(rng, d, [4, 3])
    i, j = rng.choice(ws[layer].shape[0], 2, replace=False)
    ws[layer][j] = ws[layer][i]
    bs[layer][j] = bs[layer][i] + delta
    return _net(ws, bs), domain_kw(domain, d)


def slab(seed: int, width: float, *, d: int = 2, domain: str = "box") -> tuple[ReLUNetwork, dict]:
    """Two parallel hyperplanes ``width`` apart through a random point of the domain, plus 3 random units."""
    rng = np.random.default_rng(seed)
    ws, bs = _random(rng, d, [3])
    v = rng.standard_normal(d)
    v /= np.linalg.norm(v)
    p = rng.uniform(-0.3, 0.3, d)
    W = np.vstack([ws[0], v, v])
    b = np.concatenate([bs[0], [-(v @ p), -(v @ p) - width]])
    return _net([W], [b]), domain_kw(domain, d)


def scaled(seed: int, scale: float, *, d: int = 2, domain: str = "box") -> tuple[ReLUNetwork, dict]:
    """A generic [3, 3] net with ``W^0`` and every bias multiplied by ``scale`` (every pre-activation scales by it)."""
    rng = np.random.default_rng(seed)
    ws, bs = _random(rng, d, [3, 3])
    return _net([ws[0] * scale, ws[1]], [bs[0] * scale, bs[1] * scale]), domain_kw(domain, d)


def thin_start(seed: int, width: float, *, d: int = 2, domain: str = "box") -> tuple[ReLUNetwork, dict]:
    """A slab of ``width`` around the origin (where the search starts), plus 3 random units."""
    rng = np.random.default_rng(seed)
    ws, bs = _random(rng, d, [3])
    v = rng.standard_normal(d)
    v /= np.linalg.norm(v)
    W = np.vstack([ws[0], v, v])
    b = np.concatenate([bs[0], [width / 2, -width / 2]])
    return _net([W], [b]), domain_kw(domain, d)


def near_face(seed: int, eps: float, *, d: int = 2) -> tuple[ReLUNetwork, dict]:
    """A hyperplane ``x_k = 1 - eps`` just inside the box face, plus 3 random units (box domain)."""
    rng = np.random.default_rng(seed)
    ws, bs = _random(rng, d, [3])
    k = int(rng.integers(d))
    e = np.zeros(d)
    e[k] = 1.0
    return _net([np.vstack([ws[0], e])], [np.concatenate([bs[0], [-(1.0 - eps)]])]), domain_kw("box", d)


def deep_near_parallel(seed: int, delta: float, *, d: int = 2, domain: str = "box") -> tuple[ReLUNetwork, dict]:
    """A [4, 4] net whose second layer has two units with rows differing by ``delta`` times noise."""
    rng = np.random.default_rng(seed)
    ws, bs = _random(rng, d, [4, 4])
    i, j = rng.choice(4, 2, replace=False)
    ws[1][j] = ws[1][i] + delta * rng.standard_normal(4)
    bs[1][j] = bs[1][i] + delta * rng.standard_normal()
    return _net(ws, bs), domain_kw(domain, d)


def quantized(
    seed: int, levels: int, *, d: int = 2, widths: tuple[int, ...] | None = None, domain: str = "box"
) -> tuple[ReLUNetwork, dict]:
    """A random net with every layer rounded to the grid of step ``max|W^l| / levels`` (not a power of two).

    Default widths: [6, 6] for d <= 2, [4, 4] above (the exact oracle's cost grows with the region count).
    """
    rng = np.random.default_rng(seed)
    ws, bs = _random(rng, d, list(widths or ((6, 6) if d <= 2 else (4, 4))))
    qw, qb = [], []
    for W, b in zip(ws, bs, strict=True):
        step = float(np.max(np.abs(W))) / levels
        qw.append(np.round(W / step) * step)
        qb.append(np.round(b / step) * step)
    return _net(qw, qb), domain_kw(domain, d)


def near_concurrent(seed: int, delta: float, *, d: int = 2, domain: str = "box") -> tuple[ReLUNetwork, dict]:
    """Three first-layer hyperplanes through one point, one shifted by ``delta`` (a tiny simplex), then a layer of 3."""
    rng = np.random.default_rng(seed)
    ws, bs = _random(rng, d, [5, 3])
    p = rng.uniform(-0.4, 0.4, d)
    for i in range(3):
        bs[0][i] = -(ws[0][i] @ p)
    bs[0][0] += delta
    return _net(ws, bs), domain_kw(domain, d)


def deep_thin(seed: int, delta: float, *, d: int = 2, domain: str = "box") -> tuple[ReLUNetwork, dict]:
    """A [3, 3, 3] net whose third layer has a near-duplicate unit (bias shifted by ``delta``)."""
    rng = np.random.default_rng(seed)
    ws, bs = _random(rng, d, [3, 3, 3])
    i, j = rng.choice(3, 2, replace=False)
    ws[2][j] = ws[2][i]
    bs[2][j] = bs[2][i] + delta
    return _net(ws, bs), domain_kw(domain, d)


def quantized_scaled(seed: int, scale: float, *, d: int = 2, domain: str = "box") -> tuple[ReLUNetwork, dict]:
    """A 4-bit quantized [5, 4] net, then ``W^0`` and every bias multiplied by ``scale``."""
    net, dom = quantized(seed, 7, d=d, widths=(5, 4), domain=domain)
    ws = (net.weights[0] * scale,) + tuple(net.weights[1:])
    return _net(list(ws), [b * scale for b in net.biases]), dom


def near_polytope_face(seed: int, eps: float, *, d: int = 2) -> tuple[ReLUNetwork, dict]:
    """A hyperplane parallel to the simplex domain's slanted face ``sum x = 1``, ``eps`` inside it, plus 3 units."""
    rng = np.random.default_rng(seed)
    ws, bs = _random(rng, d, [3])
    W = np.vstack([ws[0], np.ones(d)])
    b = np.concatenate([bs[0], [-(1.0 - eps)]])
    return _net([W], [b]), domain_kw("polytope", d)


def far_wedge(
    seed: int, angle: float, gap: float, *, d: int = 2, layer: int = 0, domain: str = "whole_space"
) -> tuple[ReLUNetwork, dict]:
    """Two nearly parallel hyperplanes that cross about ``gap / angle`` from the origin, in a [4, 3] net.

    Unit ``j`` of ``layer`` is unit ``i`` tilted by ``angle`` (times a random direction) and shifted by
    ``gap``: near the origin the two bound a slab of width ``~gap`` (thin when ``gap`` is small), and
    they cross ``~gap / angle`` away (up to 1e17), where the slab's cells end and two far cells begin.
    """
    rng = np.random.default_rng(seed)
    ws, bs = _random(rng, d, [4, 3])
    i, j = rng.choice(ws[layer].shape[0], 2, replace=False)
    tilt = rng.standard_normal(ws[layer].shape[1])
    ws[layer][j] = ws[layer][i] + angle * tilt / np.linalg.norm(tilt) * np.linalg.norm(ws[layer][i])
    bs[layer][j] = bs[layer][i] + gap * np.linalg.norm(ws[layer][i])
    return _net(ws, bs), domain_kw(domain, d)


FAMILIES = {
    "near_duplicate": near_duplicate,
    "slab": slab,
    "scaled": scaled,
    "thin_start": thin_start,
    "near_face": near_face,
    "deep_near_parallel": deep_near_parallel,
    "quantized": quantized,
    "near_concurrent": near_concurrent,
    "deep_thin": deep_thin,
    "quantized_scaled": quantized_scaled,
    "near_polytope_face": near_polytope_face,
    "far_wedge": far_wedge,
}
