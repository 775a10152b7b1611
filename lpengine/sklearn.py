"""scikit-learn estimators: exact LAD / quantile regression and layer-wise L1 training of ReLU networks.

* :class:`QuantileRegressor` / :class:`LADRegressor` wrap :func:`~lpengine.lad`
  (the Barrodale–Roberts vertex walk, certified optimal): the same objective as
  scikit-learn's ``QuantileRegressor(alpha=0)``, solved exactly.
* :class:`ReLURegressor` wraps :func:`~lpengine.train_network`: a ReLU network
  trained for the L1 (or pinball) loss one layer at a time, every step an exact
  Deep ReLU Simplex walk.

They follow the estimator API (parameters stored unchanged in ``__init__``,
``fit`` returns ``self``, fitted attributes end in ``_``), so they work in
``Pipeline`` and ``GridSearchCV``.  Needs the optional extra ``lpengine[sklearn]``.

Dependent columns.  A vertex needs a design of full column rank; collinear or
constant columns (and a single sample) are common in real pipelines.  The fit
keeps a maximal independent subset of the columns (with the intercept first)
and gives the others coefficient 0: the optimal loss is the same, since the
dropped columns add nothing to the span of the fitted values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .network import ReLUNetwork
from .simplex import lad
from .tolerances import DEFAULT_TOLERANCES
from .training import TrainingResult, train_network
from .training.reduction import independent_columns

__all__ = ["QuantileRegressor", "LADRegressor", "ReLURegressor"]


def _sample_weight(sample_weight: Any, n: int) -> NDArray[np.float64] | None:
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"sample_weight has shape {w.shape}; expected ({n},).")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("sample_weight must be finite and >= 0.")
    if not np.any(w > 0):
        raise ValueError("sample_weight is zero for every sample; expected at least one positive weight.")
    return w


def _positive_rows(
    X: NDArray[np.float64], y: NDArray[np.float64], w: NDArray[np.float64] | None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64] | None]:
    """Drop samples of weight 0: they do not enter the loss (and would add kinks to the walk)."""
    if w is None or np.all(w > 0):
        return X, y, w
    pos = w > 0
    return X[pos], y[pos], w[pos]


def _weighted_quantile(y: NDArray[np.float64], w: NDArray[np.float64] | None, q: float) -> float:
    """An exact minimiser of ``sum w_i rho_q(b - y_i)``: the smallest ``y_(k)`` with cumulative weight >= q W."""
    order = np.argsort(y, kind="stable")
    ws = np.ones(y.size) if w is None else w[order]
    cum = np.cumsum(ws)
    k = int(np.searchsorted(cum, q * cum[-1], side="left"))
    return float(y[order][min(k, y.size - 1)])


class QuantileRegressor(RegressorMixin, BaseEstimator):
    """Linear quantile regression solved exactly by the Deep ReLU Simplex (Barrodale–Roberts).

    Minimises ``sum_i w_i rho_q(x_i . coef + intercept - y_i)`` with the pinball loss
    ``rho_q(r) = (1 - q) r_+ + q r_-`` (``r`` = prediction minus target), the objective
    of ``sklearn.linear_model.QuantileRegressor(quantile=q, alpha=0)``, without penalty.

    Parameters
    ----------
    quantile : float in (0, 1), default 0.5
    fit_intercept : bool, default True
    max_pivots : int, optional
        Pivot budget (the fit is then not certified).
    time_limit : float, optional
        Seconds.
    random_state : int, optional
        Seeds the perturbation of a start point that lies on a kink.

    Attributes
    ----------
    coef_ : ndarray, shape (n_features,)
    intercept_ : float
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.
    objective_ : float
        The minimised loss on the training data, in :func:`~lpengine.lad`'s convention:
        ``sum w_i |r_i|`` for ``quantile=0.5`` (twice the pinball loss there), the
        pinball loss ``sum w_i rho_q(r_i)`` otherwise.
    certified_ : bool
        The optimum is certified (dual-weight condition and HiGHS).
    status_ : str
        :func:`~lpengine.lad`'s status (``"optimal"`` when proved).
    n_iter_ : int
        Pivots of the walk.
    dropped_features_ : ndarray of int
        Columns dependent on the others (and the intercept), given coefficient 0.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> reg = QuantileRegressor().fit(X, [0.0, 1.0, 2.0, 10.0])
    >>> round(float(reg.coef_[0]), 12), round(reg.intercept_, 12), round(reg.objective_, 12)
    (1.0, 0.0, 7.0)
    """

    def __init__(
        self,
        quantile: float = 0.5,
        *,
        fit_intercept: bool = True,
        max_pivots: int | None = None,
        time_limit: float | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.quantile = quantile
        self.fit_intercept = fit_intercept
        self.max_pivots = max_pivots
        self.time_limit = time_limit
        self.random_state = random_state

    def _quantile(self) -> float:
        return float(self.quantile)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> QuantileRegressor:
        """Fit the coefficients exactly; returns ``self``."""
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        q = self._quantile()
        if not 0.0 < q < 1.0:
            raise ValueError(f"The 'quantile' parameter must be a float in the range (0, 1). Got {q!r} instead.")
        X, y, w = _positive_rows(X, y, _sample_weight(sample_weight, X.shape[0]))
        if self.fit_intercept:
            keep, held = independent_columns(X, DEFAULT_TOLERANCES.dependence)
        else:
            keep, held = _independent_no_intercept(X)
        coef = np.zeros(X.shape[1])
        self.dropped_features_ = held
        if keep.size == 0:
            self.intercept_ = _weighted_quantile(y, w, q) if self.fit_intercept else 0.0
            r = self.intercept_ - y
            # lad's convention: sum |r| for the median, the pinball loss for other quantiles
            loss = np.abs(r) if q == 0.5 else (1.0 - q) * np.maximum(r, 0.0) + q * np.maximum(-r, 0.0)
            self.objective_ = float(np.sum(loss if w is None else w * loss))
            self.certified_, self.status_, self.n_iter_ = True, "optimal", 0
        else:
            res = lad(
                X[:, keep],
                y,
                q,
                fit_intercept=self.fit_intercept,
                sample_weight=w,
                max_pivots=self.max_pivots,
                time_limit=self.time_limit,
                seed=self.random_state,
            )
            coef[keep] = res.coef
            self.intercept_ = float(res.intercept)
            self.objective_ = float(res.fun)
            self.certified_, self.status_, self.n_iter_ = bool(res.certified), str(res.status), int(res.nit)
        self.coef_ = coef
        return self

    def predict(self, X: Any) -> NDArray[np.float64]:
        """Linear predictions, shape ``(n_samples,)``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return np.asarray(X @ self.coef_ + self.intercept_, dtype=np.float64)


def _independent_no_intercept(X: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Independent columns of ``X`` itself (no column of ones); zero columns are dependent."""
    keep: list[int] = []
    held: list[int] = []
    for j in range(X.shape[1]):
        cand = keep + [j]
        if np.linalg.matrix_rank(X[:, cand]) == len(cand):
            keep.append(j)
        else:
            held.append(j)
    return np.array(keep, dtype=np.int64), np.array(held, dtype=np.int64)


class LADRegressor(QuantileRegressor):
    """Least-absolute-deviation regression (the median: :class:`QuantileRegressor` with ``quantile=0.5``).

    Parameters and attributes as :class:`QuantileRegressor`, without ``quantile``.
    """

    def __init__(
        self,
        *,
        fit_intercept: bool = True,
        max_pivots: int | None = None,
        time_limit: float | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.fit_intercept = fit_intercept
        self.max_pivots = max_pivots
        self.time_limit = time_limit
        self.random_state = random_state

    def _quantile(self) -> float:
        return 0.5


class ReLURegressor(RegressorMixin, BaseEstimator):
    """A ReLU network trained for the L1 (or pinball) loss, one exact layer step at a time.

    Starts from ``ReLUNetwork.random(n_features, hidden_layer_sizes, seed=random_state)``
    (He-normal weights) and runs :func:`~lpengine.train_network`.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (8,)
    cycles : int, default 10
        Most passes over the layers.
    order : {"forward", "backward", "random"}
    quantile : float in (0, 1), default 0.5
    time_limit : float, optional
        Seconds for the whole fit.
    max_pivots : int, optional
        Pivot budget of each layer step.
    random_state : int, optional
        Seeds the initial weights and the walks.

    Attributes
    ----------
    network_ : ReLUNetwork
    training_ : TrainingResult
    loss_ : float
        Final training loss.
    losses_ : ndarray
        Loss after every layer step (non-increasing).
    n_iter_ : int
        Completed cycles.
    certified_ : bool
        Every layer step ended at a certified layer-wise local minimum.
    dead_units_ : tuple of tuple of int
        Per hidden layer, units inactive on every training sample.
    n_features_in_ : int
    """

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (8,),
        *,
        cycles: int = 10,
        order: str = "forward",
        quantile: float = 0.5,
        time_limit: float | None = None,
        max_pivots: int | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.cycles = cycles
        self.order = order
        self.quantile = quantile
        self.time_limit = time_limit
        self.max_pivots = max_pivots
        self.random_state = random_state

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> ReLURegressor:
        """Train the network; returns ``self``."""
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        X, y, w = _positive_rows(X, y, _sample_weight(sample_weight, X.shape[0]))
        sizes = self.hidden_layer_sizes
        hidden = [int(sizes)] if isinstance(sizes, (int, np.integer)) else [int(h) for h in sizes]
        net = ReLUNetwork.random(X.shape[1], hidden, seed=self.random_state)
        res: TrainingResult = train_network(
            net,
            X,
            y,
            cycles=self.cycles,
            order=self.order,
            quantile=self.quantile,
            time_limit=self.time_limit,
            max_pivots=self.max_pivots,
            seed=self.random_state,
            sample_weight=w,
        )
        self.network_ = res.network
        self.training_ = res
        self.loss_ = float(res.fun)
        self.losses_ = res.losses
        self.n_iter_ = int(res.cycles)
        self.certified_ = bool(res.certified)
        self.dead_units_ = res.dead_units
        return self

    def predict(self, X: Any) -> NDArray[np.float64]:
        """Network outputs, shape ``(n_samples,)``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return np.asarray(self.network_.forward(X)[:, 0], dtype=np.float64)
