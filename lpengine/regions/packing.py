"""Pending and processed regions packed as a few arrays, for the trip between processes.

The work sharing (:mod:`.parallel`) and the Dask search (:mod:`.partition`,
:mod:`.distributed`) send regions between processes.  Pickling thousands of
small objects one by one is slow and large; these functions stack them into a
few numpy arrays per batch instead (one pickle each) and unpack them on the
other side, unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..network import LocalAffineMap
from .outcome import PendingRegion, RegionWork

__all__ = ["PackedItems", "pack_items", "unpack_item", "unpack_items", "pack_works", "unpack_works"]


@dataclass(frozen=True)
class PackedItems:
    """Pending regions as two arrays (one pickle each): signs, and [facet point | normal | guess] (nan = None)."""

    signs: NDArray[np.int8]
    hints: NDArray[np.float64]


def pack_items(items: list[PendingRegion], d: int) -> PackedItems:
    """Pending regions as two stacked arrays (cheap to pickle)."""
    S = np.stack([it.signs for it in items])
    F = np.full((len(items), 3 * d), np.nan)
    for i, it in enumerate(items):
        pt, nrm, wit = it.facet_point, it.normal, it.guess
        if pt is not None:
            F[i, :d] = pt
        if nrm is not None:
            F[i, d : 2 * d] = nrm
        if wit is not None:
            F[i, 2 * d :] = wit
    return PackedItems(S, F)


def unpack_item(packed: PackedItems, i: int, d: int) -> PendingRegion:
    """The ``i``-th pending region of ``packed``."""
    return unpack_items(packed, d, [i])[0]


def unpack_items(packed: PackedItems, d: int, rows: list[int] | None = None) -> list[PendingRegion]:
    """The pending regions of ``packed`` (those in ``rows`` only, if given), in order.

    The hints are views into ``packed.hints``; the signs are copies.  The
    None/not-None tests run once per batch, not once per region (this runs in
    the master for every new neighbour a worker reports).
    """
    S, H = packed.signs, packed.hints
    if rows is not None:
        S, H = S[rows], H[rows]
    present = ~np.isnan(H[:, [0, d, 2 * d]]) if H.shape[0] else np.zeros((0, 3), dtype=bool)
    out = []
    for s, h, (p_ok, n_ok, g_ok) in zip(S, H, present.tolist(), strict=True):
        out.append(
            PendingRegion(
                s.copy(),
                h[:d] if p_ok else None,
                h[d : 2 * d] if n_ok else None,
                h[2 * d :] if g_ok else None,
            )
        )
    return out


def pack_works(works: list[RegionWork]) -> dict[str, Any]:
    """The regions a worker found, as a few stacked arrays plus small lists (cheap to pickle)."""
    if not works:
        return {"n": 0}
    has_out = works[0].affine.out_A is not None
    return {
        "n": len(works),
        "signs": np.stack([w.signs for w in works]),
        "witness": np.stack([w.witness for w in works]),
        "margin": [w.margin for w in works],
        "facet_units": [w.facet_units for w in works],
        "neighbor_keys": [w.neighbor_keys for w in works],
        "n_facets": [w.n_facets for w in works],
        "bounded": [w.bounded for w in works],
        "thin": [w.thin for w in works],
        "exact_witness": [w.exact_witness for w in works],
        "A": np.stack([w.affine.A for w in works]),
        "c": np.stack([w.affine.c for w in works]),
        "out_A": np.stack([w.affine.out_A for w in works if w.affine.out_A is not None]) if has_out else None,
        "out_c": np.stack([w.affine.out_c for w in works if w.affine.out_c is not None]) if has_out else None,
    }


def unpack_works(pk: dict[str, Any]) -> list[RegionWork]:
    """The regions packed by :func:`pack_works`."""
    n = pk["n"]
    if not n:
        return []
    out_A = [None] * n if pk["out_A"] is None else list(pk["out_A"])
    out_c = [None] * n if pk["out_c"] is None else list(pk["out_c"])
    return [
        RegionWork(s, x, m, fu, nk, nf, b, LocalAffineMap(A, c, oA, oc), th, ew)
        for s, x, m, fu, nk, nf, b, th, ew, A, c, oA, oc in zip(
            list(pk["signs"]),
            list(pk["witness"]),
            pk["margin"],
            pk["facet_units"],
            pk["neighbor_keys"],
            pk["n_facets"],
            pk["bounded"],
            pk["thin"],
            pk["exact_witness"],
            list(pk["A"]),
            list(pk["c"]),
            out_A,
            out_c,
            strict=True,
        )
    ]
