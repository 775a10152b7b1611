"""The sequential prediction protocol over a finite, well-ordered hypothesis class.

At each step ``t = 0, 1, ..., T-1`` the predictor sees the labels of steps
``0..t-1``, predicts a label in ``{-1, +1}`` for step ``t``, and then the true
label is revealed.  A class is given by its *behaviour table*
``behaviours[h, t]`` = the label hypothesis ``h`` assigns to the ``t``-th point,
rows in the well-order (row 0 is the least hypothesis).

Predictors
----------
``"least_consistent"``
    The finite Hardin--Taylor / Gold strategy: predict with the least
    hypothesis that agrees with every label seen so far.  If the target is in
    the class, each mistake removes at least that hypothesis, so at most
    ``|H| - 1`` mistakes occur (more sharply: the number of distinct rows of
    the table, minus one).
``"halving"``
    Predict the majority vote of the version space; a tie is broken by the
    least consistent hypothesis.  Each mistake removes at least half of the
    version space, so a realizable run makes at most ``floor(log2 |H|)``
    mistakes.

When no hypothesis is consistent any more (the labels are not realizable),
both predictors fall back to the hypotheses with the fewest past mistakes
(empirical risk minimisers), which coincides with the version space while it
is non-empty.  The run records the first step at which this happened.

Labels may be fixed in advance (an array) or produced by the adversary
``y_t = -yhat_t`` (``y="adversarial"``), which makes every deterministic
predictor wrong at every step.

References
----------
C. S. Hardin and A. D. Taylor, "A peculiar connection between the axiom of
choice and predicting the future", Amer. Math. Monthly 115(2), 2008.
S. Shalev-Shwartz and S. Ben-David, *Understanding Machine Learning*, ch. 21
(online learning: Consistent and Halving).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import InvalidOptionError, InvalidProblemError

__all__ = ["ProtocolResult", "run_protocol", "distinct_rows", "PREDICTORS", "ADVERSARIAL"]

logger = logging.getLogger(__name__)

#: Names accepted by ``run_protocol(..., predictor=...)``.
PREDICTORS: tuple[str, ...] = ("least_consistent", "halving")

#: The value of ``y`` that requests adversarial labels ``y_t = -yhat_t``.
ADVERSARIAL = "adversarial"


def _frozen(arr: NDArray[Any]) -> NDArray[Any]:
    arr = np.array(arr, copy=True)
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True)
class ProtocolResult:
    """Exact record of one sequential run.

    Attributes
    ----------
    predictor : str
        ``"least_consistent"`` or ``"halving"``.
    n_steps : int
        ``T``.
    n_hypotheses : int
        ``|H|`` (rows of the behaviour table).
    mistakes : int
        Number of steps with ``prediction != label``.
    mistake_steps : tuple of int
        The steps (0-based) at which a mistake occurred, increasing.
    predictions, labels : ndarray of int8, shape (T,)
        ``yhat_t`` and ``y_t`` in ``{-1, +1}``.
    chosen : ndarray of int64, shape (T,)
        Index (in the well-order) of the least hypothesis among the current
        empirical risk minimisers at step ``t``: the hypothesis the
        least-consistent predictor used.  While the labels are realizable it
        never decreases and it strictly increases across every mistake of the
        least-consistent predictor (the finite shadow of the Hardin--Taylor
        proof); after that it may move either way.
    version_space_sizes : ndarray of int64, shape (T,)
        Number of hypotheses consistent with labels ``0..t-1`` (0 once none is).
    first_unrealizable_step : int or None
        Smallest ``t`` such that no hypothesis agrees with labels ``0..t``;
        ``None`` if the whole sequence is realizable.
    """

    predictor: str
    n_steps: int
    n_hypotheses: int
    mistakes: int
    mistake_steps: tuple[int, ...]
    predictions: NDArray[np.int8]
    labels: NDArray[np.int8]
    chosen: NDArray[np.int64]
    version_space_sizes: NDArray[np.int64]
    first_unrealizable_step: int | None

    @property
    def realizable(self) -> bool:
        """True iff some hypothesis agrees with every label of the run."""
        return self.first_unrealizable_step is None

    @property
    def cumulative_mistakes(self) -> NDArray[np.int64]:
        """Mistakes made up to and including each step, shape (T,)."""
        return np.cumsum(self.predictions != self.labels).astype(np.int64)

    @property
    def mistake_rate(self) -> float:
        """``mistakes / T``."""
        return self.mistakes / self.n_steps

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (Python scalars and lists only)."""
        return {
            "predictor": self.predictor,
            "n_steps": self.n_steps,
            "n_hypotheses": self.n_hypotheses,
            "mistakes": self.mistakes,
            "mistake_steps": list(self.mistake_steps),
            "first_unrealizable_step": self.first_unrealizable_step,
        }


def _check_behaviours(behaviours: Any) -> NDArray[np.int8]:
    arr = np.asarray(behaviours)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InvalidProblemError(
            f"behaviours has shape {arr.shape}; expected a non-empty 2-D array (n_hypotheses, n_steps)."
        )
    if arr.dtype.kind not in "iuf" or not np.all(np.abs(arr) == 1):
        raise InvalidProblemError("behaviours must contain only the labels -1 and +1.")
    return arr.astype(np.int8)


def distinct_rows(behaviours: NDArray[np.int8]) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Group identical rows of a {-1, +1} table (exactly, by their packed bits).

    Returns
    -------
    first_index : ndarray of int64, shape (D,)
        The least row index of each distinct row, increasing (the well-order
        of the groups).
    counts : ndarray of int64, shape (D,)
        Multiplicities.
    inverse : ndarray of int64, shape (n_rows,)
        Group of every row: ``behaviours[h] == behaviours[first_index[inverse[h]]]``.
    """
    packed = np.ascontiguousarray(np.packbits(np.asarray(behaviours) > 0, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).reshape(-1)
    _, first, inverse, counts = np.unique(keys, return_index=True, return_inverse=True, return_counts=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return (
        first[order].astype(np.int64),
        counts[order].astype(np.int64),
        rank[np.asarray(inverse).reshape(-1)].astype(np.int64),
    )


def run_protocol(behaviours: Any, y: Any, *, predictor: str = "least_consistent") -> ProtocolResult:
    """Run the sequential protocol and count mistakes exactly.

    Parameters
    ----------
    behaviours : array_like of {-1, +1}, shape (n_hypotheses, T)
        ``behaviours[h, t]``: the label hypothesis ``h`` gives the ``t``-th
        point; rows in the well-order (e.g. :meth:`GridReLUClass.labels`).
    y : array_like of {-1, +1}, shape (T,), or ``"adversarial"``
        The true labels, or the adversary ``y_t = -yhat_t``.
    predictor : {"least_consistent", "halving"}
        The prediction rule (module docstring).

    Returns
    -------
    ProtocolResult

    Raises
    ------
    InvalidProblemError
        If ``behaviours`` or ``y`` are malformed or their lengths differ.
    InvalidOptionError
        If ``predictor`` is unknown.

    Notes
    -----
    Hypotheses with identical rows are merged first (with multiplicities),
    so the cost is one sort of the table plus ``O(T * D)`` for ``D`` distinct
    rows; the result is identical to running over all ``|H|`` rows.  While the labels are realizable
    the least-consistent predictor makes at most ``(number of distinct rows)
    - 1 <= |H| - 1`` mistakes and halving at most ``floor(log2 |H|)``.

    Examples
    --------
    >>> B = [[-1, -1, -1], [1, 1, 1], [1, -1, 1]]
    >>> run_protocol(B, [1, -1, 1]).mistakes
    2
    >>> run_protocol(B, "adversarial", predictor="halving").mistakes
    3
    """
    B = _check_behaviours(behaviours)
    if predictor not in PREDICTORS:
        raise InvalidOptionError(
            f"The 'predictor' parameter of run_protocol must be one of {PREDICTORS}. Got {predictor!r} instead."
        )
    n_h, T = B.shape
    adversarial = isinstance(y, str)
    if adversarial:
        if y != ADVERSARIAL:
            raise InvalidOptionError(
                f"The 'y' parameter of run_protocol must be a label array or {ADVERSARIAL!r}. Got {y!r} instead."
            )
        labels_in = None
    else:
        labels_in = np.asarray(y)
        if labels_in.shape != (T,):
            raise InvalidProblemError(f"y has shape {labels_in.shape}; expected ({T},) to match behaviours.")
        if labels_in.dtype.kind not in "iuf" or not np.all(np.abs(labels_in) == 1):
            raise InvalidProblemError("y must contain only the labels -1 and +1.")
        labels_in = labels_in.astype(np.int8)

    # Hypotheses with identical rows are indistinguishable on this stream: run on the distinct
    # rows, weighted by multiplicity, each represented by its least (first) hypothesis index.
    first_index, counts, _ = distinct_rows(B)
    rows = B[first_index]
    errors = np.zeros(rows.shape[0], dtype=np.int64)
    preds = np.empty(T, dtype=np.int8)
    labels = np.empty(T, dtype=np.int8)
    chosen = np.empty(T, dtype=np.int64)
    vs_sizes = np.empty(T, dtype=np.int64)
    first_unrealizable: int | None = None
    halving = predictor == "halving"
    for t in range(T):
        best = int(errors.min())
        candidates = errors == best
        vs_sizes[t] = int(counts[candidates].sum()) if best == 0 else 0
        least = int(np.argmax(candidates))
        chosen[t] = first_index[least]
        column = rows[:, t]
        if halving:
            vote = int(column[candidates].astype(np.int64) @ counts[candidates])
            pred = 1 if vote > 0 else -1 if vote < 0 else int(column[least])
        else:
            pred = int(column[least])
        label = -pred if labels_in is None else int(labels_in[t])
        preds[t] = pred
        labels[t] = label
        errors += column != label
        if first_unrealizable is None and int(errors.min()) > 0:
            first_unrealizable = t
            logger.info("%s: labels stop being realizable at step %d", predictor, t)
    mistake_steps = tuple(int(t) for t in np.flatnonzero(preds != labels))
    return ProtocolResult(
        predictor=predictor,
        n_steps=int(T),
        n_hypotheses=int(n_h),
        mistakes=len(mistake_steps),
        mistake_steps=mistake_steps,
        predictions=_frozen(preds),
        labels=_frozen(labels),
        chosen=_frozen(chosen),
        version_space_sizes=_frozen(vs_sizes),
        first_unrealizable_step=first_unrealizable,
    )
