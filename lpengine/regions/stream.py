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

Shards and checkpoints together: a checkpoint names the shard files that hold
the regions counted before it (*committed* shards) and carries the rows
counted since the last shard was written (at most one shard's worth).  A run
killed after a checkpoint may have written more shards; their regions are
counted again on resume, so :func:`prepare_shards` removes every shard file
the checkpoint does not name before the resumed search starts, checks that
the named ones are there and hold the counted rows, and the resumed search
writes the carried rows with its own.  New shards never reuse a committed
name (serially the numbering goes on after the highest committed number; a
Dask partition ``p`` after its own), so the shards of a resumed run hold every
region exactly once, as an uninterrupted run's do.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import CheckpointError
from ..network import ReLUNetwork
from .checkpoint import StreamSnapshot
from .domain import Domain
from .outcome import RegionWork
from .result import RegionCollector

__all__ = ["StreamingCollector", "n_collected", "prepare_shards", "shard_rows", "SHARD_SIZE", "shard_index"]

logger = logging.getLogger(__name__)

#: Regions per shard file.
SHARD_SIZE = 10_000

# Shard files: regions-NNNNN.npz (this module), regions-pPPPP-NNNNN.npz (a Dask partition), and the
# temporary names both write before the rename.
_SHARD_NAME = re.compile(r"^regions-(?:p(\d{4})-)?(\d{5})(?:\.tmp)?\.npz$")
_ROW_KEYS = ("signs", "witness", "margin", "bounded", "thin")


def shard_index(name: str, partition: int | None = None) -> int | None:
    """The number ``N`` of a committed shard name written serially (``partition=None``) or by ``partition``."""
    m = _SHARD_NAME.match(name)
    if m is None or name.endswith(".tmp.npz"):
        return None
    if (m.group(1) is None) != (partition is None) or (partition is not None and int(m.group(1)) != partition):
        return None
    return int(m.group(2))


def shard_rows(works: list[RegionWork], d: int, n_units: int) -> dict[str, NDArray[Any]]:
    """The regions ``works`` as a shard's arrays (``bounded``: 1, 0, or -1 when not computed)."""
    return {
        "signs": np.array([w.signs for w in works], dtype=np.int8).reshape(len(works), n_units),
        "witness": np.array([w.witness for w in works], dtype=np.float64).reshape(len(works), d),
        "margin": np.array([w.margin for w in works], dtype=np.float64),
        "bounded": np.array([-1 if w.bounded is None else int(bool(w.bounded)) for w in works], dtype=np.int8),
        "thin": np.array([w.thin for w in works], dtype=bool),
    }


def _concat_rows(parts: list[dict[str, NDArray[Any]]], d: int, n_units: int) -> dict[str, NDArray[Any]]:
    parts = [p for p in parts if len(p["margin"])]
    if not parts:
        return shard_rows([], d, n_units)
    return {k: np.concatenate([p[k] for p in parts]) for k in _ROW_KEYS}


def prepare_shards(folder: str | os.PathLike[str], stream: StreamSnapshot | None) -> None:
    """Get ``folder`` ready for a search that writes shards: a fresh one (``stream`` None) or a resumed one.

    A fresh search needs a folder without shards.  A resumed one needs the
    checkpoint's committed shards, holding with its carried rows the regions it
    counted; every other shard file is removed (written after the checkpoint,
    its regions are counted again).

    Raises
    ------
    ValueError
        A fresh search's folder already holds shards.
    CheckpointError
        The checkpoint was written without shards, or a committed shard is
        missing, or the shards do not hold the counted regions.
    """
    path = Path(folder)
    present = sorted(f.name for f in path.iterdir() if _SHARD_NAME.match(f.name)) if path.is_dir() else []
    if stream is None:
        if present:
            raise ValueError(
                f"shards_dir {str(path)!r} already holds {len(present)} region shard file(s) ({present[0]}, ...) "
                "from another run; use an empty folder, or resume= the run that wrote them."
            )
        return
    if stream.shard_files is None:
        raise CheckpointError(
            "the checkpoint was written without shards_dir, so the regions counted before it are in no shard; "
            "resume it without shards_dir, or start afresh."
        )
    committed = set(stream.shard_files)
    missing = sorted(committed - set(present))
    if missing:
        raise CheckpointError(
            f"the checkpoint's shard {missing[0]!r} is missing from {str(path)!r} ({len(missing)} of "
            f"{len(committed)} missing); resume with shards_dir= the folder the interrupted run wrote to."
        )
    rows = 0
    for name in stream.shard_files:
        with np.load(path / name, allow_pickle=False) as z:
            rows += int(z["signs"].shape[0])
    carried = 0 if stream.shard_buffer is None else int(len(stream.shard_buffer.get("margin", ())))
    if rows + carried != stream.count:
        raise CheckpointError(
            f"the checkpoint counted {stream.count} regions, but its shards in {str(path)!r} hold {rows} and it "
            f"carries {carried}: the folder was changed since; start afresh."
        )
    extra = [name for name in present if name not in committed]
    for name in extra:
        (path / name).unlink()
    if extra:
        logger.info(
            "resume: removed %d shard file(s) written after the checkpoint (their regions are counted again)",
            len(extra),
        )


class StreamingCollector(RegionCollector):
    """A collector that keeps counts and statistics only (and optionally writes shards).

    Parameters
    ----------
    net : ReLUNetwork
    domain : Domain
    shards_dir : path, optional
        Write the regions there in ``.npz`` shards (created if missing).
    shard_size : int, optional
        Regions per shard (default :data:`SHARD_SIZE`).
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
        shard_size: int | None = None,
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
        self.shard_size = SHARD_SIZE if shard_size is None else shard_size
        self.buffer: list[RegionWork] = []
        #: Rows carried over from a checkpoint (counted, not yet in a shard), written with the next shard.
        self.carry: dict[str, NDArray[Any]] | None = None
        #: The shard files holding the regions taken in (written here, or committed before a resume).
        self.files: list[str] = []
        self.next_index = 0
        self.n_shards = 0
        self.dim = domain.dim
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
            if len(self.buffer) + self._carried() >= self.shard_size:
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

    def _carried(self) -> int:
        return 0 if self.carry is None else len(self.carry["margin"])

    def pending_rows(self) -> dict[str, NDArray[Any]]:
        """The rows taken in but not yet in a shard (carried ones first)."""
        parts = [] if self.carry is None else [self.carry]
        return _concat_rows([*parts, shard_rows(self.buffer, self.dim, self.n_units)], self.dim, self.n_units)

    def snapshot(
        self,
        packed_prefixes: list[NDArray[np.uint8]] | None = None,
        *,
        shard_files: list[str] | None = None,
        shard_buffer: list[dict[str, NDArray[Any]]] | None = None,
    ) -> StreamSnapshot:
        """The statistics taken in so far, for a checkpoint (layer prefixes packed as bits, 1 = active).

        ``packed_prefixes`` replaces this collector's own prefixes, for a search whose prefixes
        are held elsewhere (the Dask partitions), already packed, one array per layer;
        ``shard_files`` and ``shard_buffer`` likewise replace this collector's committed shards
        and unwritten rows (the partitions write the shards there).
        """
        files: list[str] | None = None
        pending: dict[str, NDArray[Any]] | None = None
        if self.shards_dir is not None:
            files = list(self.files) if shard_files is None else list(shard_files)
            if shard_buffer is None:
                pending = self.pending_rows()
            else:
                pending = _concat_rows(shard_buffer, self.dim, self.n_units)
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
            files,
            pending,
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
        if self.shards_dir is not None and snap.shard_files is not None:
            self.resume_shards(snap.shard_files, snap.shard_buffer)

    def resume_shards(self, files: list[str], carry: dict[str, NDArray[Any]] | None) -> None:
        """Go on after the committed shards ``files``; ``carry`` (counted rows in no shard) goes into the next one."""
        self.files = list(files)
        self.n_shards = len(self.files)
        own = [i for i in (shard_index(f) for f in files) if i is not None]
        self.next_index = max(own) + 1 if own else 0
        self.carry = carry if carry is not None and len(carry.get("margin", ())) else None

    def truncate(self, n: int) -> None:
        """Nothing to drop: regions beyond ``limit`` were never taken in."""

    def flush(self) -> None:
        """Write the buffered regions as the next shard (atomically: a temporary file, then a rename)."""
        if self.shards_dir is None or not (self.buffer or self._carried()):
            return
        name = f"regions-{self.next_index:05d}.npz"
        path = self.shards_dir / name
        tmp = self.shards_dir / f"regions-{self.next_index:05d}.tmp.npz"
        np.savez(tmp, **self.pending_rows())  # type: ignore[arg-type]  # numpy's stub checks **kwds against allow_pickle: bool
        os.replace(tmp, path)
        self.files.append(name)
        self.next_index += 1
        self.n_shards = len(self.files)
        self.buffer, self.carry = [], None

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
