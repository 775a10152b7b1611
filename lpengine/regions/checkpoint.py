"""Checkpoints of a region search: write the search state atomically, resume it exactly.

A checkpoint holds everything the breadth-first search needs to go on as if it
had never stopped: the frontier (pending regions with their interior-point
hints), the set of patterns seen, the regions counted so far (in the order
they were counted, so the adjacency graph is rebuilt identically), the
undecided patterns and the counters.  Resuming from it gives exactly the
count, the patterns and the graph of an uninterrupted run.

File format (version :data:`FORMAT_VERSION`): one ``.npz`` archive of plain
numeric and unicode arrays, read with ``allow_pickle=False`` (a checkpoint
never runs code).  Its ``header`` entry is a JSON document with the format
name and version, the fingerprint of the search (a SHA-256 of the network's
weights and biases, the domain, the tolerances, the method and the
boundedness setting) and the counters.  A checkpoint written for another
network, domain, tolerance setting or method is refused with
:class:`~lpengine.exceptions.CheckpointError`.

Writes go to a temporary file in the same folder, then :func:`os.replace`
puts it in place (atomic on POSIX), so a crash or a ``SIGKILL`` during a write
leaves the previous checkpoint intact: an interrupted run loses at most one
interval.  The affine maps of the counted regions are not stored; they are
recomputed on resume by the same code that computed them (bit for bit).

A search that streams its regions to shard files (``keep_regions=False``,
``shards_dir``) stores, in its statistics, the names of the shards written
before the checkpoint and the rows counted since (``s_buf_*`` arrays); see
:mod:`.stream` for how a resume keeps the shards free of duplicates.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections import deque
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._version import __version__
from ..exceptions import CheckpointError
from ..lp import LPCounters
from ..lp.exact import RationalVector
from ..network import LocalAffineMap, ReLUNetwork
from ..tolerances import Tolerances
from .certify import Certifier, DecisionStats
from .domain import Domain
from .outcome import PendingRegion, RegionWork

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "STREAM_FORMAT_VERSION",
    "SearchSnapshot",
    "StreamSnapshot",
    "Checkpointer",
    "fingerprint",
    "load_checkpoint",
]

logger = logging.getLogger(__name__)

FORMAT_NAME = "lpengine-regions-checkpoint"
FORMAT_VERSION = 1
# The version of a checkpoint that holds streamed statistics instead of regions (keep_regions=False on
# Dask): an older reader must refuse it rather than resume without the regions it does not see.
STREAM_FORMAT_VERSION = 2

# A write may take at most this share of the wall time: the interval grows to keep it so
# (a search with 10^5 regions writes a few MB).
_MAX_WRITE_SHARE = 0.1


def fingerprint(net: ReLUNetwork, domain: Domain, tol: Tolerances, method: str, compute_bounded: bool) -> str:
    """SHA-256 of everything that determines the search's answer."""
    h = hashlib.sha256()
    h.update(f"{FORMAT_NAME}/{FORMAT_VERSION}".encode())
    for W, b in zip(net.weights, net.biases, strict=True):
        h.update(np.ascontiguousarray(W, dtype=np.float64).tobytes())
        h.update(np.ascontiguousarray(b, dtype=np.float64).tobytes())
        h.update(repr(W.shape).encode())
    h.update(f"output={net.has_output_layer}".encode())
    h.update(f"domain={domain.kind}/{domain.dim}".encode())
    for arr in (domain.lo, domain.hi, domain.G, domain.h):
        if arr is not None:
            h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
    h.update(json.dumps({f.name: getattr(tol, f.name) for f in fields(tol)}, sort_keys=True).encode())
    h.update(f"method={method};bounded={compute_bounded}".encode())
    return h.hexdigest()


@dataclass
class StreamSnapshot:
    """The statistics of a search that does not keep its regions (``keep_regions=False``).

    ``prefixes[l]`` holds the distinct layer prefixes (layers ``1..l+1``, packed
    with ``np.packbits``) for every hidden layer but the last.
    """

    count: int
    n_bounded: int | None
    thin: list[str]
    min_margin: float | None
    active_sum: NDArray[np.int64]
    any_active: NDArray[np.bool_]
    all_active: NDArray[np.bool_]
    prefixes: list[NDArray[np.uint8]]
    #: With ``shards_dir``: the shard files (names in the folder) holding regions counted before this
    #: snapshot, and the rows counted but not yet in any of them (``signs``, ``witness``, ``margin``,
    #: ``bounded``, ``thin``); ``None`` when the search writes no shards.
    shard_files: list[str] | None = None
    shard_buffer: dict[str, NDArray[Any]] | None = None


@dataclass
class SearchSnapshot:
    """The state of a breadth-first region search between two steps.

    ``works`` are the counted regions in the order they were counted;
    ``queue`` the frontier; ``seen`` every pattern ever queued (keys are the
    patterns' ``int8`` bytes).
    """

    queue: deque[PendingRegion]
    seen: set[bytes]
    works: list[RegionWork] = field(default_factory=list)
    undecided: list[NDArray[np.int8]] = field(default_factory=list)
    counters: LPCounters = field(default_factory=LPCounters)
    stats: DecisionStats = field(default_factory=DecisionStats)
    seconds: float = 0.0
    #: Set when the regions are not kept: their statistics instead of ``works`` (which is then empty).
    stream: StreamSnapshot | None = None


class Checkpointer:
    """Writes the snapshot of a running search to ``path`` every ``every`` seconds.

    The search calls :meth:`due` between steps (cheap) and, when it is due,
    :meth:`write` with its current state; :meth:`write` is also called once at
    the end of a stopped search.  Counted regions are encoded once, when they
    are first written (``works`` only grows), so a write costs the frontier and
    the seen set plus the regions counted since the last write.
    """

    def __init__(self, path: str | os.PathLike[str], fp: str, every: float = 5.0) -> None:
        if not every > 0:
            raise ValueError(f"The checkpoint interval must be a positive number of seconds. Got {every!r} instead.")
        self.path = Path(path)
        self.fp = fp
        self.every = float(every)
        self.next_at = time.perf_counter() + self.every
        self.writes = 0
        self._chunks: list[dict[str, NDArray[Any]]] = []
        self._encoded = 0

    def due(self) -> bool:
        """True when the interval since the last write has passed."""
        return time.perf_counter() >= self.next_at

    def write(self, snap: SearchSnapshot, d: int) -> None:
        """Write ``snap`` atomically (temporary file, then ``os.replace``)."""
        t0 = time.perf_counter()
        if len(snap.works) > self._encoded:
            self._chunks.append(_encode_works(snap.works[self._encoded :], d))
            self._encoded = len(snap.works)
        arrays = _encode_state(snap, d, self._chunks)
        header = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "fingerprint": self.fp,
            "lpengine": __version__,
            "n_works": self._encoded,
            "counters": {
                "solves": snap.counters.solves,
                "iterations": snap.counters.iterations,
                "seconds": snap.counters.seconds,
                "by_status": snap.counters.by_status,
            },
            "stats": {f.name: getattr(snap.stats, f.name) for f in fields(snap.stats)},
            "seconds": snap.seconds,
        }
        if snap.stream is not None:
            st = snap.stream
            header["version"] = STREAM_FORMAT_VERSION
            header["stream"] = {
                "count": st.count,
                "n_bounded": st.n_bounded,
                "thin": st.thin,
                "min_margin": st.min_margin,
                "n_prefix_layers": len(st.prefixes),
                "shards": st.shard_files,
            }
            arrays["s_active_sum"] = st.active_sum
            arrays["s_any_active"] = st.any_active
            arrays["s_all_active"] = st.all_active
            for l, pre in enumerate(st.prefixes):
                arrays[f"s_prefix_{l}"] = pre
            if st.shard_files is not None and st.shard_buffer is not None:
                for k, v in st.shard_buffer.items():
                    arrays[f"s_buf_{k}"] = v
        arrays["header"] = np.array(json.dumps(header, sort_keys=True))
        tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}")
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]  # numpy's stub checks **kwds against allow_pickle: bool
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        self.writes += 1
        spent = time.perf_counter() - t0
        self.next_at = time.perf_counter() + max(self.every, spent / _MAX_WRITE_SHARE)
        n = self._encoded if snap.stream is None else snap.stream.count
        logger.info("checkpoint %s: %d regions, %d queued (%.3f s)", self.path, n, len(snap.queue), spent)

    def adopt(self, snap: SearchSnapshot, d: int) -> None:
        """Start from a resumed snapshot (its regions are already in the file)."""
        if snap.works:
            self._chunks = [_encode_works(snap.works, d)]
        self._encoded = len(snap.works)


def load_checkpoint(
    path: str | os.PathLike[str],
    net: ReLUNetwork,
    domain: Domain,
    tol: Tolerances,
    method: str,
    compute_bounded: bool,
    backend: Any = "highs",
) -> SearchSnapshot:
    """Read a checkpoint written for exactly this search.

    Raises
    ------
    CheckpointError
        The file is missing, is not an lpengine region checkpoint, has another
        format version, or was written for another network, domain, tolerance
        setting or method.
    """
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"checkpoint {str(p)!r} does not exist.")
    try:
        with np.load(p, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{str(p)!r} is not an lpengine region checkpoint ({exc}).") from exc
    try:
        header = json.loads(str(data["header"]))
    except (KeyError, ValueError) as exc:
        raise CheckpointError(f"{str(p)!r} is not an lpengine region checkpoint (no readable header).") from exc
    if header.get("format") != FORMAT_NAME:
        raise CheckpointError(f"{str(p)!r} is not an lpengine region checkpoint (format {header.get('format')!r}).")
    if header.get("version") not in (FORMAT_VERSION, STREAM_FORMAT_VERSION) or (
        (header.get("version") == STREAM_FORMAT_VERSION) != ("stream" in header)
    ):
        raise CheckpointError(
            f"checkpoint {str(p)!r} has format version {header.get('version')!r}; "
            f"this lpengine reads versions {FORMAT_VERSION} and {STREAM_FORMAT_VERSION} (the latter with statistics "
            "instead of regions)."
        )
    fp = fingerprint(net, domain, tol, method, compute_bounded)
    if header.get("fingerprint") != fp:
        raise CheckpointError(
            f"checkpoint {str(p)!r} was written for another search (network, domain, tolerances or method "
            "differ); resume it with the same inputs, or start afresh without --resume."
        )
    d = domain.dim
    queue = deque(_decode_pending(data["queue_signs"], data["queue_hints"], d))
    seen = {row.tobytes() for row in data["seen"]}
    works = _decode_works(data, net, domain, tol, backend)
    undecided = [row.copy() for row in data["undecided"]]
    c = header["counters"]
    counters = LPCounters(int(c["solves"]), int(c["iterations"]), float(c["seconds"]), dict(c["by_status"]))
    stats = DecisionStats(**header["stats"])
    stream = None
    if "stream" in header:
        h = header["stream"]
        stream = StreamSnapshot(
            int(h["count"]),
            None if h["n_bounded"] is None else int(h["n_bounded"]),
            [str(t) for t in h["thin"]],
            None if h["min_margin"] is None else float(h["min_margin"]),
            data["s_active_sum"].astype(np.int64),
            data["s_any_active"].astype(bool),
            data["s_all_active"].astype(bool),
            [data[f"s_prefix_{l}"].astype(np.uint8) for l in range(int(h["n_prefix_layers"]))],
        )
        if h.get("shards") is not None:
            stream.shard_files = [str(f) for f in h["shards"]]
            stream.shard_buffer = {k[len("s_buf_") :]: v for k, v in data.items() if k.startswith("s_buf_")}
    return SearchSnapshot(queue, seen, works, undecided, counters, stats, float(header["seconds"]), stream)


# -- encoding -------------------------------------------------------------------------------------


def _encode_pending(items: list[PendingRegion], n_units: int, d: int) -> tuple[NDArray[np.int8], NDArray[np.float64]]:
    S = np.zeros((len(items), n_units), dtype=np.int8)
    F = np.full((len(items), 3 * d), np.nan)
    for i, it in enumerate(items):
        S[i] = it.signs
        for j, v in enumerate((it.facet_point, it.normal, it.guess)):
            if v is not None:
                F[i, j * d : (j + 1) * d] = v
    return S, F


def _decode_pending(S: NDArray[np.int8], F: NDArray[np.float64], d: int) -> list[PendingRegion]:
    out = []
    for i in range(S.shape[0]):
        parts = [F[i, j * d : (j + 1) * d] for j in range(3)]
        pt, nrm, wit = (None if np.isnan(v[0]) else v.copy() for v in parts)
        out.append(PendingRegion(S[i].copy(), pt, nrm, wit))
    return out


def _encode_state(snap: SearchSnapshot, d: int, chunks: list[dict[str, NDArray[Any]]]) -> dict[str, NDArray[Any]]:
    n_units = _n_units(snap)
    qs, qh = _encode_pending(list(snap.queue), n_units, d)
    seen = np.frombuffer(b"".join(sorted(snap.seen)), dtype=np.int8).reshape(len(snap.seen), n_units)
    und = np.array(snap.undecided, dtype=np.int8).reshape(len(snap.undecided), n_units)
    out: dict[str, NDArray[Any]] = {"queue_signs": qs, "queue_hints": qh, "seen": seen, "undecided": und}
    parts = chunks or [_encode_works([], d, n_units)]
    for k in parts[0]:
        out["w_" + k] = np.concatenate([c[k] for c in parts])
    return out


def _n_units(snap: SearchSnapshot) -> int:
    for key in snap.seen:
        return len(key)
    return 0


def _encode_works(works: list[RegionWork], d: int, n_units: int | None = None) -> dict[str, NDArray[Any]]:
    """Counted regions as flat arrays; ragged fields as (sizes, flat values)."""
    if n_units is None:
        n_units = works[0].signs.shape[0] if works else 0
    n = len(works)
    ew = [w.exact_witness for w in works]
    return {
        "signs": np.array([w.signs for w in works], dtype=np.int8).reshape(n, n_units),
        "witness": np.array([w.witness for w in works], dtype=np.float64).reshape(n, d),
        "margin": np.array([w.margin for w in works], dtype=np.float64),
        "n_facets": np.array([w.n_facets for w in works], dtype=np.int64),
        "bounded": np.array([-1 if w.bounded is None else int(w.bounded) for w in works], dtype=np.int8),
        "thin": np.array([w.thin for w in works], dtype=bool),
        "n_edges": np.array([len(w.facet_units) for w in works], dtype=np.int64),
        "facet_sizes": np.array([len(u) for w in works for u in w.facet_units], dtype=np.int64),
        "facet_units": np.array([k for w in works for u in w.facet_units for k in u], dtype=np.int64),
        "neighbor_keys": np.frombuffer(b"".join(k for w in works for k in w.neighbor_keys), dtype=np.int8).reshape(
            -1, n_units
        ),
        # Exact witnesses as decimal strings (Python ints of any size, no pickle).
        "exact_at": np.array([i for i, r in enumerate(ew) if r is not None], dtype=np.int64),
        "exact_num": np.array([[str(v) for v in r.num] for r in ew if r is not None], dtype=str).reshape(-1, d),
        "exact_den": np.array([str(r.den) for r in ew if r is not None], dtype=str),
    }


def _decode_works(
    data: dict[str, NDArray[Any]], net: ReLUNetwork, domain: Domain, tol: Tolerances, backend: Any
) -> list[RegionWork]:
    S = data["w_signs"]
    n = S.shape[0]
    cert = Certifier(net, domain, tol, backend)
    exact: dict[int, RationalVector] = {
        int(i): RationalVector(tuple(int(v) for v in num), int(den))
        for i, num, den in zip(data["w_exact_at"], data["w_exact_num"], data["w_exact_den"], strict=True)
    }
    edge_end = np.cumsum(data["w_n_edges"])
    unit_end = np.cumsum(data["w_facet_sizes"])
    units_flat, keys = data["w_facet_units"].tolist(), data["w_neighbor_keys"]
    out = []
    e0 = 0
    for i in range(n):
        e1 = int(edge_end[i])
        facet_units = []
        for e in range(e0, e1):
            u0 = int(unit_end[e - 1]) if e else 0
            facet_units.append(tuple(units_flat[u0 : int(unit_end[e])]))
        neighbor_keys = [keys[e].tobytes() for e in range(e0, e1)]
        e0 = e1
        rows = cert.rows(S[i]).rows  # the same code computed them when the region was counted
        b = int(data["w_bounded"][i])
        out.append(
            RegionWork(
                S[i].copy(),
                data["w_witness"][i].copy(),
                float(data["w_margin"][i]),
                facet_units,
                neighbor_keys,
                int(data["w_n_facets"][i]),
                None if b < 0 else bool(b),
                LocalAffineMap(rows.A, rows.c, rows.out_A, rows.out_c),
                thin=bool(data["w_thin"][i]),
                exact_witness=exact.get(i),
            )
        )
    return out
