"""Every bound for one architecture, side by side, as one frozen table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..exceptions import InvalidNetworkError
from ._arch import check_architecture, check_ranks
from .arora2018 import lower_bound_arora2018
from .hinz_vandegeer2019 import upper_bound_activation_counts
from .montufar2014 import lower_bound_montufar2014, upper_bound_montufar2014
from .montufar2017 import upper_bound_montufar2017
from .pascanu2013 import lower_bound_pascanu2013
from .raghu2017 import growth_order_raghu2017, upper_bound_raghu_style
from .serra2018 import (
    exact_max_serra2018_1d,
    lower_bound_serra2018_thm6,
    lower_bound_serra2018_thm7,
    upper_bound_serra2018,
)
from .zaslavsky import upper_bound_zaslavsky

__all__ = ["BoundEntry", "BoundsTable", "all_bounds"]


@dataclass(frozen=True)
class BoundEntry:
    """One row of a :class:`BoundsTable`.

    Attributes
    ----------
    name : str
        Key, e.g. ``"serra2018_upper"``.
    kind : str
        ``"upper"``, ``"lower"``, ``"exact"`` (the maximum itself, hence both),
        ``"first_layer"`` (Zaslavsky's exact count for layer 1 alone) or
        ``"order"`` (an asymptotic order without a number).
    value : int or None
        The bound; ``None`` when its condition fails (see ``note``) or for an order.
    source : str
        Paper and theorem.
    note : str
        Condition, how it was applied, or the order's expression.
    """

    name: str
    kind: str
    value: int | None
    source: str
    note: str


@dataclass(frozen=True)
class BoundsTable:
    """All bounds on the number of regions for one architecture (see :func:`all_bounds`)."""

    n0: int
    widths: tuple[int, ...]
    entries: tuple[BoundEntry, ...]

    def __getitem__(self, name: str) -> BoundEntry:
        for e in self.entries:
            if e.name == name:
                return e
        raise KeyError(f"no bound named {name!r}; available: {[e.name for e in self.entries]}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entries)

    @property
    def best_upper(self) -> int:
        """Smallest applicable upper bound (``exact`` rows included)."""
        return min(e.value for e in self.entries if e.kind in ("upper", "exact") and e.value is not None)

    @property
    def best_lower(self) -> int | None:
        """Largest applicable lower bound on the maximum (``None`` if none applies)."""
        vals = [e.value for e in self.entries if e.kind in ("lower", "exact", "first_layer") and e.value is not None]
        return max(vals) if vals else None

    def as_dict(self) -> dict[str, Any]:
        """``{name: value}`` (the order's expression for ``kind == "order"``)."""
        return {e.name: (e.note if e.kind == "order" else e.value) for e in self.entries}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``n0``, ``widths``, ``bounds`` (:meth:`as_dict`), ``best_upper``, ``best_lower``
        and ``entries`` (one ``{name, kind, value, source, note}`` per row).  Values stay exact Python ints."""
        return {
            "n0": self.n0,
            "widths": list(self.widths),
            "bounds": self.as_dict(),
            "best_upper": self.best_upper,
            "best_lower": self.best_lower,
            "entries": [
                {"name": e.name, "kind": e.kind, "value": e.value, "source": e.source, "note": e.note}
                for e in self.entries
            ],
        }


def _try(fn: Callable[[], int]) -> tuple[int | None, str]:
    try:
        return fn(), ""
    except InvalidNetworkError as exc:
        return None, f"not applicable: {exc}"


def all_bounds(n0: int, widths: Any, *, ranks: Any = None) -> BoundsTable:
    """Every upper and lower bound of :mod:`lpengine.bounds` for widths ``n_1..n_L`` on ``R^{n0}``.

    Parameters
    ----------
    n0 : int
        Input dimension (>= 1).
    widths : sequence of int
        Hidden widths (each >= 1).
    ranks : sequence of int, optional
        ``rank W^l`` per layer, for Serra et al.'s rank variant (row added only then).

    Returns
    -------
    BoundsTable

    Notes
    -----
    Upper bounds bound the number of activation regions of *every* network of
    this architecture; lower bounds are attained by *some* network (the
    maximum is at least the value).  Lower bounds whose conditions fail have
    ``value=None`` and say why.  Cost: dominated by the two framework
    propagations, ``O(L * max(widths)**2)`` big-integer operations.

    Examples
    --------
    >>> t = all_bounds(2, [4, 4])
    >>> t["serra2018_upper"].value, t["activation_counts_upper"].value, t["montufar2014_lower"].value
    (121, 109, 44)
    """
    n0, widths = check_architecture(n0, widths)
    E = BoundEntry
    rows: list[BoundEntry] = []
    rows.append(
        E(
            "zaslavsky_first_layer",
            "first_layer",
            upper_bound_zaslavsky(n0, widths[0]),
            "Zaslavsky 1975",
            "exact maximum for the first hidden layer alone",
        )
    )
    rows.append(
        E(
            "montufar2014_upper",
            "upper",
            upper_bound_montufar2014(n0, widths),
            "Montúfar et al. 2014",
            "2^N: one region per activation pattern",
        )
    )
    rows.append(
        E(
            "raghu_style_upper",
            "upper",
            upper_bound_raghu_style(n0, widths),
            "explicit form of Raghu et al. 2017 (not stated in the paper)",
            "prod_l Z(n_l, <=n0)",
        )
    )
    rows.append(
        E(
            "montufar2017_upper",
            "upper",
            upper_bound_montufar2017(n0, widths),
            "Montúfar 2017",
            "prod_l Z(n_l, <=min(n0, n_1..n_{l-1}))",
        )
    )
    rows.append(
        E(
            "serra2018_upper",
            "upper",
            upper_bound_serra2018(n0, widths),
            "Serra et al. 2018, Theorem 1",
            "= Hinz-van de Geer framework with gamma^(c)",
        )
    )
    if ranks is not None:
        ranks = check_ranks(ranks, n0, widths)
        rows.append(
            E(
                "serra2018_rank_upper",
                "upper",
                upper_bound_serra2018(n0, widths, ranks=ranks),
                "Serra et al. 2018, Theorem 1 (rank variant)",
                f"ranks {list(ranks)}",
            )
        )
    rows.append(
        E(
            "activation_counts_upper",
            "upper",
            upper_bound_activation_counts(n0, widths),
            "Hinz-van de Geer framework, activation-count gamma derived in lpengine",
            "Hinz 2021 programme; gamma proven in lpengine.bounds.activation_histograms",
        )
    )
    if n0 == 1:
        v, why = _try(lambda: exact_max_serra2018_1d(widths))
        rows.append(
            E(
                "serra2018_1d_exact",
                "exact",
                v,
                "Serra et al. 2018, Theorem 5",
                why or "exact maximum for n0 = 1: prod (n_l + 1)",
            )
        )
    v, why = _try(lambda: lower_bound_montufar2014(n0, widths))
    rows.append(E("montufar2014_lower", "lower", v, "Montúfar et al. 2014", why or "needs n_l >= n0"))
    v, why = _try(lambda: lower_bound_pascanu2013(n0, widths))
    rows.append(E("pascanu2013_lower", "lower", v, "Pascanu et al. 2013, Theorem 1", why or "needs n_l >= n0"))
    v, why = _try(lambda: lower_bound_serra2018_thm6(n0, widths))
    rows.append(E("serra2018_thm6_lower", "lower", v, "Serra et al. 2018, Theorem 6", why or "needs n_l >= 3 n0"))
    sub = f"sub-architecture (2*{widths[0] // 2}" + (
        f", {min(widths[1:])} x {len(widths) - 1})" if len(widths) > 1 else ")"
    )
    v, why = _try(lambda: lower_bound_serra2018_thm7(n0, widths))
    rows.append(E("serra2018_thm7_lower", "lower", v, "Serra et al. 2018, Theorem 7", why or sub))
    v, why = _try(lambda: lower_bound_arora2018(n0, widths))
    rows.append(E("arora2018_lower", "lower", v, "Arora et al. 2018, Theorem 3.9", why or sub))
    order = growth_order_raghu2017(n0, widths)
    rows.append(E("raghu2017_order", "order", None, order.source, order.expression))
    return BoundsTable(n0=n0, widths=widths, entries=tuple(rows))
