"""GridReLUClass: size, well-order, exact labels (checked against Fractions and ReLUNetwork), bad input."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

from lpengine.exceptions import InvalidOptionError, InvalidProblemError
from lpengine.sequential import MAX_CLASS_SIZE, GridReLUClass


def _fraction_label(H: GridReLUClass, theta: np.ndarray, x: np.ndarray) -> int:
    """Independent oracle: evaluate f_theta(x) in exact rational arithmetic."""
    f = Fraction(0)
    for j in range(H.width):
        z = sum(Fraction(int(theta[j, k]), H.scale) * Fraction(float(x[k])) for k in range(H.n_in))
        if H.bias:
            z += Fraction(int(theta[j, H.n_in]), H.scale)
        f += H.output_weights[j] * max(z, Fraction(0))
    return 1 if f > 0 else -1


@pytest.mark.parametrize(
    "n_in,width,scale,bias,size",
    [
        (1, 2, 2, True, 625),
        (1, 1, 3, True, 49),
        (2, 1, 1, True, 27),
        (2, 2, 1, False, 81),
        (1, 3, 1, True, 729),
    ],
)
def test_size_is_product_formula(n_in: int, width: int, scale: int, bias: bool, size: int) -> None:
    H = GridReLUClass(n_in=n_in, width=width, scale=scale, bias=bias)
    assert H.size == size == (2 * scale + 1) ** (width * (n_in + bias))


def test_well_order_is_occam_then_lexicographic_and_a_bijection() -> None:
    H = GridReLUClass(n_in=1, width=2, scale=1)
    thetas = [tuple(H.integer_parameters(i).reshape(-1).tolist()) for i in range(H.size)]
    # every integer parameter array occurs exactly once
    assert sorted(thetas) == sorted(itertools.product(range(-1, 2), repeat=4))
    keys = [(sum(abs(v) for v in t), t) for t in thetas]
    assert keys == sorted(keys)
    assert thetas[0] == (0, 0, 0, 0)
    assert thetas[1] == (-1, 0, 0, 0)
    assert thetas[-1] == (1, 1, 1, 1)
    assert H.complexity(H.size - 1) == 4


def test_index_of_round_trips() -> None:
    H = GridReLUClass(n_in=1, width=2, scale=2)
    for i in (0, 1, 17, 300, H.size - 1):
        assert H.index_of(H.integer_parameters(i)) == i


def test_labels_match_exact_rational_oracle_including_non_dyadic_and_tiny_inputs() -> None:
    H = GridReLUClass(n_in=2, width=2, scale=1, output_weights=(2, -3))
    rng = np.random.default_rng(3)
    X = np.vstack(
        [
            rng.uniform(-1, 1, size=(6, 2)),
            [[1 / 3, -1 / 3], [0.1, 0.2], [1e-20, -1e-20], [0.5, 0.0], [0.0, 0.0]],
        ]
    )
    L = H.labels(X)
    assert L.shape == (729, X.shape[0]) and L.dtype == np.int8
    for h in range(H.size):
        theta = H.integer_parameters(h)
        for i, x in enumerate(X):
            assert L[h, i] == _fraction_label(H, theta, x), (h, i)


def test_labels_are_exact_where_float_evaluation_rounds_to_zero() -> None:
    # f(x) = relu(x - 1/10) at x = fl(0.1): fl(0.1) > 1/10 exactly, so the label is +1,
    # while float evaluation gives 1.0*0.1 - 0.1 = 0 (label -1).
    H = GridReLUClass(n_in=1, width=1, scale=10, output_weights=(1,))
    h = H.index_of(np.array([[10, -1]]))
    assert Fraction(0.1) > Fraction(1, 10)
    assert H.labels([[0.1]])[h, 0] == 1
    assert float(H.network(h).forward([[0.1]])[0, 0]) == 0.0


def test_labels_agree_with_relu_network_forward_on_unambiguous_points() -> None:
    H = GridReLUClass(n_in=1, width=2, scale=2)
    X = (np.arange(64, dtype=np.float64) / 64 - 0.5).reshape(-1, 1) * 3
    L = H.labels(X)
    for h in range(0, H.size, 7):
        f = H.network(h).forward(X)[:, 0]
        assert np.array_equal(np.where(f > 0, 1, -1), L[h]), h


def test_network_of_index_has_grid_weights() -> None:
    H = GridReLUClass(n_in=1, width=2, scale=4, output_weights=(3, -1))
    net = H.network(H.size - 1)
    np.testing.assert_array_equal(net.weights[0], [[1.0], [1.0]])
    np.testing.assert_array_equal(net.biases[0], [1.0, 1.0])
    np.testing.assert_array_equal(net.weights[1], [[3.0, -1.0]])


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"width": 0}, "width"),
        ({"scale": -1}, "scale"),
        ({"n_in": 1.5}, "n_in"),
        ({"output_weights": (1, 0)}, r"output_weights\[1\] is 0"),
        ({"output_weights": (1,)}, "expected width = 2"),
        ({"output_weights": (1, 0.5)}, r"output_weights\[1\]"),
        ({"bias": "yes"}, "bias"),
        ({"width": 4, "scale": 3}, f"at most {MAX_CLASS_SIZE}"),
    ],
)
def test_bad_class_parameters(kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidOptionError, match=match):
        GridReLUClass(**kwargs)


def test_bad_labels_input_and_index() -> None:
    H = GridReLUClass(n_in=2, width=1, scale=1)
    with pytest.raises(InvalidProblemError, match=r"X has shape \(3, 1\); expected \(\*, 2\)"):
        H.labels(np.zeros((3, 1)))
    with pytest.raises(InvalidProblemError, match="NaN or inf"):
        H.labels([[0.0, np.nan]])
    with pytest.raises(InvalidOptionError, match="index"):
        H.integer_parameters(H.size)
    with pytest.raises(InvalidOptionError, match="outside"):
        H.index_of(np.array([[2, 0, 0]]))
