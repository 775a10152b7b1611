"""Counting without keeping the regions: :class:`StreamingCollector` (``keep_regions=False``).

The search hands every counted region to its collector.  The default
:class:`~.result.RegionCollector` keeps a :class:`~.result.Region` per region
and the adjacency graph; this one keeps only what the summary needs, updated
region by region: the count, the number of bounded and thin regions, the
smallest margin and the per-layer statistics of
:func:`~.result.layer_stats` (sums and masks, plus the sets of distinct
layer prefixes it counts, for every hidden layer but the last: the last
layer's prefixes are the patterns themselves, as many as the regions).  With ``shards_dir`` it also writes the regions to
disk in ``.npz`` shards of ``shard_size`` regions each (``regions-00000.npz``,
...: ``signs`` int8 ``(n, N)``, ``witness`` ``(n, d)``, ``margin``, ``bounded``
int8 (1, 0, or -1 when not computed) and ``thin`` bool), readable with
``numpy.load(..., allow_pickle=False)``.

What stays in memory: the patterns' keys (N bytes each, for the search's
bookkeeping) and the layer prefixes; no witness, affine map or edge.

A checkpoint of such a search (:mod:`.checkpoint`, format version 2) holds
:meth:`StreamingCollector.snapshot` instead of the regions, and a resumed
search starts from :meth:`StreamingCollector.restore`; the serial search, the
work sharing and the Dask search write and read the same format.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..network import ReLUNetwork
from .checkpoint import StreamSnapshot
from .domain import Domain
from .outcome import RegionWork
from .result import RegionCollector

__all__ = ["StreamingCollector", "n_collected"]

logger = logging.getLogger(__name__)


class StreamingCollector(RegionCollector):
    """A collector that keeps counts and statistics only (and optionally writes shards).

    Parameters
    ----------
    net : ReLUNetwork
    domain : Domain
    shards_dir : path, optional
        Write the regions there in ``.npz`` shards (created if missing).
    shard_size : int
        Regions per shard.
    limit : int, optional
        Ignore regions beyond this many (a ``max_regions`` budget that the work
        sharing may overshoot: statistics cannot be taken back).
    """

    def __init__(
        self,
        net: ReLUNetwork,
        domain: Domain,
        *,
        shards_dir: str | os.PathLike[str] | None = None,
        shard_size: int = 10_000,
        limit: int | None = None,
    ) -> None:
        super().__init__(net.hidden_widths, domain)
        self.count = 0
        self.n_bounded: int | None = 0
        self.thin: list[str] = []
        self.min_margin: float | None = None
        self.limit = limit
        self.offsets = net.layer_offsets
        n = sum(net.hidden_widths)
        self.active_sum = np.zeros(n, dtype=np.int64)
        self.any_active = np.zeros(n, dtype=bool)
        self.all_active = np.ones(n, dtype=bool)
        # Distinct layer prefixes (int8 bytes) of every hidden layer but the last.
        self.prefixes: list[set[bytes]] = [set() for _ in net.hidden_widths[:-1]]
        self.shards_dir = None if shards_dir is None else Path(shards_dir)
        if self.shards_dir is not None:
            self.shards_dir.mkdir(parents=True, exist_ok=True)
        self.shard_size = shard_size
        self.buffer: list[RegionWork] = []
        self.n_shards = 0
        #: Distinct layer prefixes per layer, when counted elsewhere (the Dask partitions) instead of ``prefixes``.
        self.prefix_sizes: list[int] | None = None
        self.n_units = n

    @property
    def full(self) -> bool:
        """True once ``limit`` regions are in: further ones are ignored."""
        return self.limit is not None and self.count >= self.limit

    def add(self, w: RegionWork) -> None:
        if self.full:
            return
        from .pattern import ActivationPattern

        self.index[w.signs.tobytes()] = self.count
        self.count += 1
        if w.bounded is None:
            self.n_bounded = None
        elif self.n_bounded is not None:
            self.n_bounded += int(bool(w.bounded))
        if w.thin:
            self.thin.append(str(ActivationPattern._trusted(w.signs, self.widths)))
        self.min_margin = w.margin if self.min_margin is None else min(self.min_margin, w.margin)
        act = w.signs > 0
        self.active_sum += act
        self.any_active |= act
        self.all_active &= act
        for l, pre in enumerate(self.prefixes):
            pre.add(w.signs[: self.offsets[l + 1]].tobytes())
        if self.shards_dir is not None:
            self.buffer.append(w)
            if len(self.buffer) >= self.shard_size:
                self.flush()

    def absorb(
        self,
        count: int,
        n_bounded: int | None,
        thin: list[str],
        min_margin: float | None,
        active_sum: NDArray[np.int64] | None,
        any_active: NDArray[np.bool_] | None,
        all_active: NDArray[np.bool_] | None,
    ) -> None:
        """Add the statistics of ``count`` regions counted elsewhere (a Dask partition's round).

        The distinct layer prefixes cannot be summed; the caller sets
        :attr:`prefix_sizes` from the partitions' own distinct counts.
        """
        if not count:
            return
        self.count += count
        if n_bounded is None:
            self.n_bounded = None
        elif self.n_bounded is not None:
            self.n_bounded += n_bounded
        self.thin += thin
        if min_margin is not None:
            self.min_margin = min_margin if self.min_margin is None else min(self.min_margin, min_margin)
        if active_sum is not None and any_active is not None and all_active is not None:
            self.active_sum += active_sum
            self.any_active |= any_active
            self.all_active &= all_active

    def snapshot(self, packed_prefixes: list[NDArray[np.uint8]] | None = None) -> StreamSnapshot:
        """The statistics taken in so far, for a checkpoint (layer prefixes packed as bits, 1 = active).

        ``packed_prefixes`` replaces this collector's own prefixes, for a search whose prefixes
        are held elsewhere (the Dask partitions), already packed, one array per layer.
        """
        if packed_prefixes is None:
            packed_prefixes = []
            for l, pre in enumerate(self.prefixes):
                width = int(self.offsets[l + 1])
                S = np.frombuffer(b"".join(sorted(pre)), dtype=np.int8).reshape(len(pre), width)
                packed_prefixes.append(np.packbits(S > 0, axis=1))
        return StreamSnapshot(
            self.count,
            self.n_bounded,
            list(self.thin),
            self.min_margin,
            self.active_sum.copy(),
            self.any_active.copy(),
            self.all_active.copy(),
            packed_prefixes,
        )

    def restore(self, snap: StreamSnapshot) -> None:
        """Go on from a checkpoint's statistics (a resumed search, before any region is added).

        Raises
        ------
        ValueError
            If regions were added already, or ``snap`` has another number of units or layers.
        """
        if self.count:
            raise ValueError("restore() starts a resumed search; this collector has taken in regions already.")
        if snap.active_sum.shape != (self.n_units,) or len(snap.prefixes) != len(self.prefixes):
            raise ValueError(
                f"the checkpoint's statistics are for {snap.active_sum.shape[0]} units in {len(snap.prefixes) + 1} "
                f"layers; this network has {self.n_units} units in {len(self.prefixes) + 1}."
            )
        self.absorb(
            snap.count, snap.n_bounded, snap.thin, snap.min_margin, snap.active_sum, snap.any_active, snap.all_active
        )
        for l, (pre, arr) in enumerate(zip(self.prefixes, snap.prefixes, strict=True)):
            width = int(self.offsets[l + 1])
            if arr.shape[0]:
                S = np.unpackbits(arr, axis=1, count=width).astype(np.int8) * 2 - 1
                pre.update(row.tobytes() for row in S)

    def truncate(self, n: int) -> None:
        """Nothing to drop: regions beyond ``limit`` were never taken in."""

    def flush(self) -> None:
        """Write the buffered regions as the next shard (atomically: a temporary file, then a rename)."""
        if self.shards_dir is None or not self.buffer:
            return
        ws = self.buffer
        path = self.shards_dir / f"regions-{self.n_shards:05d}.npz"
        tmp = path.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            signs=np.stack([w.signs for w in ws]).astype(np.int8),
            witness=np.stack([w.witness for w in ws]),
            margin=np.array([w.margin for w in ws]),
            bounded=np.array([-1 if w.bounded is None else int(bool(w.bounded)) for w in ws], dtype=np.int8),
            thin=np.array([w.thin for w in ws], dtype=bool),
        )
        os.replace(tmp, path)
        self.n_shards += 1
        self.buffer = []

    def layer_stats(self) -> tuple[dict[str, Any], ...]:
        """The same statistics as :func:`~.result.layer_stats` over every region taken in."""
        if not self.count:
            return ()
        out = []
        # The last layer's prefixes are the patterns: as many as the regions.
        sizes = [len(pre) for pre in self.prefixes] + [self.count] if self.prefix_sizes is None else self.prefix_sizes
        for l, size in enumerate(sizes):
            lo, hi = self.offsets[l], self.offsets[l + 1]
            s: NDArray[np.int64] = self.active_sum[lo:hi]
            out.append(
                {
                    "layer": l,
                    "width": int(hi - lo),
                    "prefix_regions": size,
                    "mean_active": float(s.sum() / self.count),
                    "never_active": int(np.sum(~self.any_active[lo:hi])),
                    "always_active": int(np.sum(self.all_active[lo:hi])),
                }
            )
        return tuple(out)


def n_collected(collector: RegionCollector) -> int:
    """The number of regions ``collector`` holds or has counted (a resumed streaming search included)."""
    if isinstance(collector, StreamingCollector):
        return collector.count
    return len(collector.regions)
