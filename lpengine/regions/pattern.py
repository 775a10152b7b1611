"""Activation patterns: canonical, hashable, with a string round trip.

A pattern assigns +1 (active) or -1 (inactive) to every hidden unit, layer by
layer.  Its string form writes ``+``/``-`` per unit with ``|`` between layers,
e.g. ``"+-+|--"``; :meth:`ActivationPattern.from_string` inverts it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..exceptions import AmbiguousPatternWarning  # noqa: F401  (documented in pattern_at)
from ..network import ReLUNetwork
from ..tolerances import Tolerances, resolve_tolerances

__all__ = ["ActivationPattern", "pattern_at", "pattern_toward", "AmbiguousPointError"]


# int8 sign bytes -> characters: +1 (0x01) -> "+", -1 (0xff) -> "-".
_SIGN_CHARS = bytes.maketrans(b"\x01\xff", b"+-")


class AmbiguousPointError(ValueError):
    """A point lies (within tolerance) on the hyperplane of a live unit."""


@dataclass(frozen=True, eq=False)
class ActivationPattern:
    """Signs (+1/-1) of all hidden units, with the layer split.

    Parameters
    ----------
    signs : array_like of int, shape (n_hidden,)
        +1 for active, -1 for inactive.
    widths : tuple of int
        Hidden layer widths (to print the ``|`` separators).
    """

    signs: NDArray[np.int8]
    widths: tuple[int, ...]

    def __post_init__(self) -> None:
        s = np.asarray(self.signs)
        if s.ndim != 1 or s.shape[0] != sum(self.widths) or not np.all(np.abs(s) == 1):
            raise ValueError(f"signs must be a vector of +1/-1 of length {sum(self.widths)}; got shape {s.shape}.")
        s = s.astype(np.int8, copy=True)
        s.flags.writeable = False
        object.__setattr__(self, "signs", s)
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        object.__setattr__(self, "_key", s.tobytes())

    @classmethod
    def _trusted(cls, signs: NDArray[np.int8], widths: tuple[int, ...]) -> ActivationPattern:
        # Fast path for the enumerators: ``signs`` is a valid int8 +-1 vector, ``widths`` a tuple of int.
        self = object.__new__(cls)
        s = signs.copy()
        s.flags.writeable = False
        object.__setattr__(self, "signs", s)
        object.__setattr__(self, "widths", widths)
        object.__setattr__(self, "_key", s.tobytes())
        return self

    @classmethod
    def from_string(cls, text: str) -> ActivationPattern:
        """Parse ``"+-+|--"``."""
        layers = text.strip().split("|")
        signs: list[int] = []
        for layer in layers:
            for ch in layer:
                if ch not in "+-":
                    raise ValueError(f"invalid character {ch!r} in pattern {text!r}; expected '+', '-' or '|'.")
                signs.append(1 if ch == "+" else -1)
        return cls(np.array(signs, dtype=np.int8), tuple(len(l) for l in layers))

    @property
    def active(self) -> NDArray[np.bool_]:
        """Boolean mask of the active units."""
        return self.signs > 0

    @property
    def key(self) -> bytes:
        """Compact hashable key (the raw sign bytes)."""
        return self._key  # type: ignore[attr-defined]  # set in __post_init__ (a cache, not a field)

    def layer(self, l: int) -> NDArray[np.int8]:
        """Signs of hidden layer ``l`` (0-based)."""
        off = int(np.sum(self.widths[:l]))
        return self.signs[off : off + self.widths[l]]

    def prefix(self, n_layers: int) -> ActivationPattern:
        """The pattern of the first ``n_layers`` hidden layers."""
        w = self.widths[:n_layers]
        return ActivationPattern(self.signs[: sum(w)], w)

    def flip(self, units: Sequence[int]) -> ActivationPattern:
        """The pattern with the given units' signs flipped."""
        s = np.array(self.signs)
        s[list(units)] *= -1
        return ActivationPattern(s, self.widths)

    def __str__(self) -> str:
        raw = self._key.translate(_SIGN_CHARS).decode("ascii")  # type: ignore[attr-defined]  # set in __post_init__ (a cache, not a field)
        if len(self.widths) == 1:
            return raw
        out, off = [], 0
        for w in self.widths:
            out.append(raw[off : off + w])
            off += w
        return "|".join(out)

    def __repr__(self) -> str:
        return f"ActivationPattern('{self}')"

    def __hash__(self) -> int:
        return hash(self._key)  # type: ignore[attr-defined]  # set in __post_init__ (a cache, not a field)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ActivationPattern):
            return NotImplemented
        return self._key == other._key and self.widths == other.widths  # type: ignore[attr-defined]  # set in __post_init__ (a cache, not a field)

    def __len__(self) -> int:
        return int(self.signs.shape[0])


def pattern_at(net: ReLUNetwork, x: NDArray[np.float64], *, tol: Tolerances | None = None) -> ActivationPattern:
    """The activation pattern of the region whose interior contains ``x``.

    Dead-unit policy: a unit whose local gradient is zero (in floats) is
    constant on the region; its sign is the sign of its value, and 0 counts as
    inactive (ReLU outputs 0 either way, so nothing downstream depends on it).
    For the exact pattern of a point, see :meth:`lpengine.regions.exact.ExactNet.forward_signs`.

    Raises
    ------
    AmbiguousPointError
        If ``x`` lies within distance ``tol.activation`` of the hyperplane of a live unit
        (``|z| <= tol.activation |grad z|``).
    """
    t = resolve_tolerances(tol)
    x = np.asarray(x, dtype=np.float64)
    h = x
    A = np.eye(net.n_in)  # gradient of h w.r.t. x
    c = np.zeros(net.n_in)
    signs = []
    for l in range(net.n_hidden_layers):
        W, b = net.weights[l], net.biases[l]
        z = W @ h + b
        Al, cl = W @ A, W @ c + b
        gn = np.linalg.norm(Al, axis=1)
        dead = gn == 0
        # A distance to the hyperplane (|z| / |grad z|), so scaling a unit changes nothing.
        amb = (np.abs(z) <= t.activation * gn) & ~dead
        if np.any(amb):
            k = int(net.layer_offsets[l] + np.flatnonzero(amb)[0])
            raise AmbiguousPointError(f"point lies on the hyperplane of hidden unit {k} (|z| = {abs(z[amb][0]):.3g}).")
        s = np.where(z > 0, 1, -1).astype(np.int8)
        signs.append(s)
        m = s > 0
        h = np.where(m, z, 0.0)
        A, c = Al * m[:, None], cl * m
    return ActivationPattern(np.concatenate(signs), net.hidden_widths)


def pattern_toward(
    net: ReLUNetwork, p: NDArray[np.float64], direction: NDArray[np.float64], *, tol: Tolerances | None = None
) -> NDArray[np.int8]:
    """Signs of the region entered from ``p`` along ``direction`` (the limit ``p + delta u``, ``delta -> 0+``).

    Every pre-activation is piecewise affine, so near ``p`` along ``u`` it equals
    ``z(p) + delta dz`` with ``dz`` its one-sided directional derivative, carried
    through the layers (a unit at ``z = 0`` passes ``dz`` on iff ``dz > 0``).  The
    sign is that of ``z(p)``, or of ``dz`` when ``p`` is within ``tol.activation`` of the
    unit's hyperplane (``|z(p)| <= tol.activation |grad z|``, a distance, so the test is
    scale invariant); a unit with ``dz`` below ``tol.activation |grad z| |u|`` there is
    zero along the ray and counts as inactive (the dead-unit policy).

    A float helper: its tolerance tests are not rigorous.  The region search crosses
    facets with :func:`lpengine.regions.crossing.cross_facet`, which decides the same
    limit with a rigorous error bound and falls back to integers.
    """
    t = resolve_tolerances(tol)
    h = np.asarray(p, dtype=np.float64)
    dh = np.asarray(direction, dtype=np.float64)
    J = np.eye(h.shape[0])  # gradient of h on the far side
    u_norm = float(np.linalg.norm(dh))
    out = []
    for l in range(net.n_hidden_layers):
        W, b = net.weights[l], net.biases[l]
        z, dz, Jz = W @ h + b, W @ dh, W @ J
        # Distances, not raw values: |z| / |grad z| is the distance to the unit's hyperplane, so the
        # test does not change when a unit's weights and bias are scaled.
        gn = np.sqrt(np.einsum("ij,ij->i", Jz, Jz))
        on_plane = np.abs(z) <= t.activation * gn
        rising = dz > t.activation * gn * u_norm
        s = np.where(on_plane, np.where(rising, 1, -1), np.where(z > 0, 1, -1)).astype(np.int8)
        out.append(s)
        act = s > 0
        h = np.where(act, np.maximum(z, 0.0), 0.0)
        dh = np.where(act, dz, 0.0)
        J = Jz * act[:, None]
    return np.concatenate(out)
