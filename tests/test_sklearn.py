"""scikit-learn estimators: estimator checks, exact LAD against LP and scikit-learn, Pipeline and GridSearchCV."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

pytest.importorskip("sklearn")

from scipy.optimize import linprog
from sklearn.linear_model import QuantileRegressor as SkQuantileRegressor
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from lpengine import LADRegressor, QuantileRegressor, RankDeficiencyWarning, ReLURegressor, lad


# Every check applies and passes (none is marked as an expected failure); the small network keeps them fast.
@parametrize_with_checks(
    [LADRegressor(), QuantileRegressor(quantile=0.3), ReLURegressor(hidden_layer_sizes=(2,), cycles=1)]
)
def test_sklearn_estimator_checks(estimator, check) -> None:
    check(estimator)


def _lp_objective(X, y, q=0.5):
    """min sum (1-q) t+ + q t- s.t. X b + b0 - y = t+ - t-  by scipy's linprog (independent of lpengine)."""
    n, p = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    c = np.concatenate([np.zeros(p + 1), np.full(n, 1 - q), np.full(n, q)])
    A_eq = np.hstack([A, -np.eye(n), np.eye(n)])
    r = linprog(c, A_eq=A_eq, b_eq=y, bounds=[(None, None)] * (p + 1) + [(0, None)] * (2 * n), method="highs")
    assert r.status == 0
    return float(r.fun)


def _pinball(pred, y, q):
    r = pred - y
    return float(np.sum((1 - q) * np.maximum(r, 0) + q * np.maximum(-r, 0)))


@pytest.fixture(scope="module")
def diabetes():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    return X, (y - y.mean()) / y.std()


@pytest.mark.parametrize("q", [0.5, 0.3])
def test_quantile_regressor_equals_lp_optimum_and_sklearn_objective(diabetes, q) -> None:
    X, y = diabetes
    ours = (LADRegressor() if q == 0.5 else QuantileRegressor(quantile=q)).fit(X, y)
    assert ours.certified_ and ours.status_ == "optimal"  # lad proves the optimum of a convex LP: never "local_minimum"
    lp = _lp_objective(X, y, q)
    assert_allclose(ours.objective_, lp * (2.0 if q == 0.5 else 1.0), rtol=1e-9)  # lad: sum |r| at the median
    assert_allclose(_pinball(ours.predict(X), y, q), lp, rtol=1e-9)
    sk = SkQuantileRegressor(quantile=q, alpha=0.0, solver="highs").fit(X, y)
    assert_allclose(_pinball(ours.predict(X), y, q), _pinball(sk.predict(X), y, q), rtol=1e-7)


def test_dependent_and_constant_columns_get_coefficient_zero(diabetes) -> None:
    X, y = diabetes
    X = X[:120, :4]
    y = y[:120]
    Xd = np.hstack([X, X[:, [1]] * 2.0 - 3.0, np.full((120, 1), 5.0)])
    reg = LADRegressor().fit(Xd, y)
    assert list(reg.dropped_features_) == [4, 5]
    assert reg.coef_[4] == 0.0 and reg.coef_[5] == 0.0
    assert_allclose(reg.objective_, 2.0 * _lp_objective(X, y), rtol=1e-9)
    one = LADRegressor().fit(X[:1], y[:1])
    assert one.intercept_ == y[0] and np.all(one.coef_ == 0.0)


def test_weighted_quantile_without_features() -> None:
    X = np.zeros((4, 1))
    y = np.array([3.0, 1.0, 2.0, 10.0])
    reg = QuantileRegressor(quantile=0.5).fit(X, y, sample_weight=[1.0, 1.0, 1.0, 5.0])
    assert reg.intercept_ == 10.0  # weight 5 of 8 at y = 10: the weighted median
    assert_allclose(reg.objective_, 7.0 + 9.0 + 8.0, rtol=0, atol=1e-12)  # sum w |r| at the median
    # No column is left to fit, so no walk runs; the loss is convex and the weighted median is its
    # global minimiser, so the status is lad's name for a proved optimum, never the DRS's "local_minimum".
    assert (reg.status_, reg.certified_, reg.n_iter_) == ("optimal", True, 0)


def test_no_feature_fit_reports_the_status_lad_reports() -> None:
    # Every column is aliased: lad itself decides the fit without a walk and names the result.
    X = np.zeros((5, 2))
    y = np.array([4.0, -1.0, 2.0, 7.0, 0.5])
    reg = LADRegressor().fit(X, y)
    with pytest.warns(RankDeficiencyWarning):
        res = lad(X, y)
    assert reg.status_ == res.status == "optimal" and reg.certified_ and res.certified
    assert reg.intercept_ == 2.0 and np.all(reg.coef_ == 0.0)  # the median of y
    assert_allclose(reg.objective_, 2.0 + 3.0 + 0.0 + 5.0 + 1.5, rtol=0, atol=1e-12)  # sum |r| at the median


def test_relu_regressor_loss_is_the_forward_l1_of_its_network(diabetes) -> None:
    X, y = diabetes
    reg = ReLURegressor(hidden_layer_sizes=(4,), cycles=3, random_state=0).fit(X[:150], y[:150])
    pred = reg.predict(X[:150])
    assert_allclose(reg.loss_, np.abs(pred - y[:150]).sum(), atol=1e-9)
    assert np.all(np.diff(reg.losses_) <= 0.0)
    assert reg.loss_ < np.abs(y[:150] - np.median(y[:150])).sum()  # better than the best constant
    assert reg.n_features_in_ == 10
    assert len(reg.dead_units_) == 1


def test_pipeline_and_grid_search(diabetes) -> None:
    X, y = diabetes
    X, y = X[:90] * 3.0 + 1.0, y[:90]
    grid = GridSearchCV(
        make_pipeline(StandardScaler(), ReLURegressor(cycles=2, random_state=0)),
        {"reluregressor__hidden_layer_sizes": [(2,), (4,)]},
        cv=3,
        scoring="neg_mean_absolute_error",
    ).fit(X, y)
    assert grid.best_params_["reluregressor__hidden_layer_sizes"] in [(2,), (4,)]
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    best = grid.best_estimator_
    Z = best[0].transform(X)
    assert_allclose(best.predict(X), best[-1].network_.forward(Z)[:, 0], rtol=0, atol=0)
    lad_grid = GridSearchCV(
        make_pipeline(StandardScaler(), QuantileRegressor()), {"quantileregressor__quantile": [0.25, 0.5, 0.75]}, cv=3
    ).fit(X, y)
    assert sorted(lad_grid.cv_results_["param_quantileregressor__quantile"]) == [0.25, 0.5, 0.75]
    # refit on all data: the pipeline's LAD step is the exact optimum on the scaled data
    Zl = lad_grid.best_estimator_[0].transform(X)
    q = lad_grid.best_params_["quantileregressor__quantile"]
    scale = 2.0 if q == 0.5 else 1.0
    assert_allclose(lad_grid.best_estimator_[-1].objective_, scale * _lp_objective(Zl, y, q), rtol=1e-9)
