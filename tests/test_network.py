"""ReLUNetwork: validation messages, npz round trip, local affine maps, patterns, torch bridge."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lpengine.exceptions import InvalidNetworkError
from lpengine.network import ReLUNetwork
from lpengine.tolerances import Tolerances


def small_net() -> ReLUNetwork:
    """Hand-made 2-2-1 network: z1 = x1 - x2, z2 = x1 + x2 - 1, out = z1+ + 2 z2+ + 0.5."""
    return ReLUNetwork(
        (np.array([[1.0, -1.0], [1.0, 1.0]]), np.array([[1.0, 2.0]])),
        (np.array([0.0, -1.0]), np.array([0.5])),
    )


# ------------------------------------------------------------------ validation
W32 = np.ones((3, 2))
B3 = np.zeros(3)


@pytest.mark.parametrize(
    ("weights", "biases", "kwargs", "match"),
    [
        (
            (W32, np.ones((1, 4))),
            (B3, np.zeros(1)),
            {},
            r"weights\[1\] has shape \(1, 4\); expected \(1, 3\) because layer 0 has 3 outputs",
        ),
        (
            (np.array([[1.0, np.nan]]), np.ones((1, 1))),
            (np.zeros(1), np.zeros(1)),
            {},
            r"weights\[0\] contains NaN or inf \(first at index \(0, 1\)\)",
        ),
        (
            (W32, np.ones((1, 3))),
            (np.array([0.0, np.inf, 0.0]), np.zeros(1)),
            {},
            r"biases\[0\] contains NaN or inf \(first at index \(1,\)\)",
        ),
        (
            (np.ones((0, 2)), np.ones((1, 0))),
            (np.zeros(0), np.zeros(1)),
            {},
            r"weights\[0\] is empty \(shape \(0, 2\)\)",
        ),
        (
            (np.array([[1, 2]], dtype=object), np.ones((1, 1))),
            (np.zeros(1), np.zeros(1)),
            {},
            r"weights\[0\] has dtype object; expected a numeric array",
        ),
        (
            (np.array([["a", "b"]]), np.ones((1, 1))),
            (np.zeros(1), np.zeros(1)),
            {},
            r"weights\[0\] has dtype <U1; expected a real numeric dtype",
        ),
        (
            (W32, np.ones((1, 3))),
            (np.zeros(2), np.zeros(1)),
            {},
            r"biases\[0\] has shape \(2,\); expected \(3,\) to match weights\[0\]",
        ),
        (
            (W32,),
            (B3,),
            {"has_output_layer": True},
            r"the network has no hidden ReLU layer \(1 layer\(s\), "
            r"has_output_layer=True\)",
        ),
        ((W32, np.ones((1, 3))), (B3,), {}, r"got 2 weight matrices but 1 bias vectors"),
        ((W32,), (B3,), {"has_output_layer": "yes"}, r"has_output_layer must be a bool"),
        (
            (np.ones(3),),
            (B3,),
            {"has_output_layer": False},
            r"weights\[0\] has 1 dimension\(s\) \(shape \(3,\)\); "
            r"expected 2",
        ),
    ],
)
def test_invalid_networks(weights, biases, kwargs, match) -> None:
    with pytest.raises(InvalidNetworkError, match=match):
        ReLUNetwork(weights, biases, **kwargs)
    assert issubclass(InvalidNetworkError, ValueError)


def test_single_hidden_layer_without_output_is_valid() -> None:
    net = ReLUNetwork((W32,), (B3,), has_output_layer=False)
    assert (net.n_in, net.hidden_widths, net.n_hidden, net.n_out, net.n_hidden_layers) == (2, (3,), 3, 3, 1)
    # relu(1 + 1) on every unit.
    np.testing.assert_array_equal(net.forward([1.0, 1.0]), [2.0, 2.0, 2.0])


def test_parameters_are_frozen_copies() -> None:
    w = np.array([[1.0, -1.0], [1.0, 1.0]])
    net = ReLUNetwork((w, np.ones((1, 2))), (np.zeros(2), np.zeros(1)))
    w[0, 0] = 99.0
    assert net.weights[0][0, 0] == 1.0
    with pytest.raises(ValueError):
        net.weights[0][0, 0] = 5.0


def test_shape_properties() -> None:
    net = ReLUNetwork.random(3, [4, 2, 5], n_out=2, seed=1)
    assert net.n_in == 3
    assert net.hidden_widths == (4, 2, 5)
    assert net.n_hidden == 11
    assert net.n_hidden_layers == 3
    assert net.n_out == 2
    assert net.layer_offsets == (0, 4, 6, 11)
    assert [net.unit_layer(k) for k in (0, 3, 4, 5, 6, 10)] == [0, 0, 1, 1, 2, 2]
    assert repr(net) == "ReLUNetwork(n_in=3, hidden_widths=[4, 2, 5], n_out=2)"


def test_forward_by_hand() -> None:
    net = small_net()
    # x = (2, 0): z = (2, 1), out = 2 + 2 + 0.5.  x = (0, 0): z = (0, -1), out = 0.5.
    np.testing.assert_array_equal(net.preactivations([[2.0, 0.0], [0.0, 0.0]]), [[2.0, 1.0], [0.0, -1.0]])
    np.testing.assert_array_equal(net.forward([[2.0, 0.0], [0.0, 0.0]]), [[4.5], [0.5]])
    np.testing.assert_array_equal(net([2.0, 0.0]), [4.5])  # one point -> 1-D
    with pytest.raises(ValueError, match="X has 3 features; expected n_in = 2"):
        net.forward(np.zeros((1, 3)))


# ------------------------------------------------------------------ save / load
@pytest.mark.parametrize("has_out", [True, False])
def test_npz_round_trip(tmp_path, has_out: bool) -> None:
    net = ReLUNetwork.random(3, [5, 4], n_out=2 if has_out else None, seed=7)
    path = tmp_path / "net.npz"
    net.save(path)
    back = ReLUNetwork.load(path)
    assert back == net
    assert back.has_output_layer is has_out
    X = np.random.default_rng(0).normal(size=(50, 3))
    np.testing.assert_array_equal(back.forward(X), net.forward(X))
    np.testing.assert_array_equal(back.preactivations(X), net.preactivations(X))
    with np.load(path) as data:
        assert int(data["format_version"]) == 1


def test_load_rejects_missing_output_marker(tmp_path) -> None:
    path = tmp_path / "bare.npz"
    np.savez(path, W0=np.ones((2, 2)), b0=np.zeros(2), W1=np.ones((1, 2)), b1=np.zeros(1))
    with pytest.raises(InvalidNetworkError, match="has no 'has_output_layer' array"):
        ReLUNetwork.load(path)


def test_load_rejects_gap_in_layer_numbering(tmp_path) -> None:
    path = tmp_path / "gap.npz"
    np.savez(
        path, W0=np.ones((2, 2)), b0=np.zeros(2), W2=np.ones((1, 2)), b2=np.zeros(1), has_output_layer=np.array(True)
    )
    with pytest.raises(InvalidNetworkError, match=r"unexpected arrays \['W2', 'b2'\].*without gaps"):
        ReLUNetwork.load(path)


def test_load_rejects_missing_bias_and_bad_file(tmp_path) -> None:
    path = tmp_path / "nobias.npz"
    np.savez(path, W0=np.ones((2, 2)), b0=np.zeros(2), W1=np.ones((1, 2)), has_output_layer=np.array(True))
    with pytest.raises(InvalidNetworkError, match=r"lacks arrays \['b1'\]"):
        ReLUNetwork.load(path)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(InvalidNetworkError, match="cannot read network file"):
        ReLUNetwork.load(junk)


# ------------------------------------------------------------ local affine maps
def test_local_affine_map_by_hand() -> None:
    net = small_net()
    # Pattern (+, -): z = (x1 - x2, x1 + x2 - 1), out = z1 + 0.5.
    lam = net.local_affine_map([1, -1])
    np.testing.assert_array_equal(lam.A, [[1.0, -1.0], [1.0, 1.0]])
    np.testing.assert_array_equal(lam.c, [0.0, -1.0])
    np.testing.assert_array_equal(lam.out_A, [[1.0, -1.0]])
    np.testing.assert_array_equal(lam.out_c, [0.5])
    assert lam.rank == 1
    # Pattern (+, +): out = (x1 - x2) + 2 (x1 + x2 - 1) + 0.5 = 3 x1 + x2 - 1.5.
    lam = net.local_affine_map(np.array([True, True]))
    np.testing.assert_array_equal(lam.out_A, [[3.0, 1.0]])
    np.testing.assert_array_equal(lam.out_c, [-1.5])
    # Pattern (-, -): the output is the constant 0.5, rank 0.
    lam = net.local_affine_map([-1, -1])
    np.testing.assert_array_equal(lam.out_A, [[0.0, 0.0]])
    assert lam.rank == 0
    with pytest.raises(ValueError, match=r"active has shape \(3,\); expected \(2,\)"):
        net.local_affine_map([1, 1, 1])


def test_local_affine_map_without_output_layer() -> None:
    net = ReLUNetwork.random(2, [3], n_out=None, seed=0)
    lam = net.local_affine_map([1, 1, 1])
    assert lam.out_A is None and lam.out_c is None and lam.rank is None
    np.testing.assert_array_equal(lam.A, net.weights[0])
    np.testing.assert_array_equal(lam.c, net.biases[0])


@given(
    seed=st.integers(0, 2**32 - 1),
    n_in=st.integers(1, 4),
    widths=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    n_out=st.sampled_from([None, 1, 2]),
)
def test_local_affine_map_matches_evaluation(seed: int, n_in: int, widths: list[int], n_out) -> None:
    net = ReLUNetwork.random(n_in, widths, n_out=n_out, seed=seed)
    X = np.random.default_rng(seed).normal(scale=2.0, size=(20, n_in))
    Z = net.preactivations(X)
    out = net.forward(X)
    for x, z, y in zip(X, Z, out, strict=True):
        lam = net.local_affine_map(z > 0)
        np.testing.assert_allclose(lam.A @ x + lam.c, z, rtol=1e-12, atol=1e-12)
        if n_out is None:
            last = slice(net.layer_offsets[-2], net.layer_offsets[-1])
            np.testing.assert_allclose(np.maximum(lam.A[last] @ x + lam.c[last], 0.0), y, rtol=1e-12, atol=1e-12)
        else:
            assert lam.out_A.shape == (n_out, n_in)
            np.testing.assert_allclose(lam.out_A @ x + lam.out_c, y, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------ activation patterns
def test_activation_pattern_marks_hyperplane_points_ambiguous() -> None:
    net = small_net()
    X = np.array(
        [
            [2.0, 2.0],  # z = (0, 3): on hyperplane 1
            [3.0, 1.0],  # z = (2, 3)
            [0.0, 0.0],  # z = (0, -1): on hyperplane 1
            [0.25, 0.75],  # z = (-0.5, 0): on hyperplane 2
            [0.0, 0.5],  # z = (-0.5, -0.5)
        ]
    )
    expected = [[0, 1], [1, 1], [0, -1], [-1, 0], [-1, -1]]
    pat = net.activation_pattern(X)
    assert pat.dtype == np.int8
    np.testing.assert_array_equal(pat, expected)
    np.testing.assert_array_equal(net.activation_pattern([3.0, 1.0]), [1, 1])


def test_activation_pattern_tolerance() -> None:
    net = small_net()
    x = np.array([1.0 + 1e-6, 1.0])  # z1 = 1e-6 (up to rounding)
    assert net.activation_pattern(x)[0] == 1  # default activation tolerance 1e-9
    assert net.activation_pattern(x, tol=Tolerances(activation=1e-5))[0] == 0


# ------------------------------------------------------------------ random
def test_random_is_deterministic_per_seed() -> None:
    a = ReLUNetwork.random(3, [4, 4], n_out=2, seed=123)
    b = ReLUNetwork.random(3, [4, 4], n_out=2, seed=123)
    c = ReLUNetwork.random(3, [4, 4], n_out=2, seed=124)
    assert a == b
    assert a != c
    assert not any(np.array_equal(wa, wc) for wa, wc in zip(a.weights, c.weights, strict=True))
    assert [w.shape for w in a.weights] == [(4, 3), (4, 4), (2, 4)]
    assert [b_.shape for b_ in a.biases] == [(4,), (4,), (2,)]


def test_random_options() -> None:
    net = ReLUNetwork.random(2, [3], n_out=None, seed=0, bias_std=0.0)
    assert not net.has_output_layer
    np.testing.assert_array_equal(net.biases[0], np.zeros(3))
    with pytest.raises(InvalidNetworkError, match="hidden_widths is empty"):
        ReLUNetwork.random(2, [], seed=0)
    with pytest.raises(InvalidNetworkError, match="hidden_widths"):
        ReLUNetwork.random(2, [3, 0], seed=0)


# ------------------------------------------------------------------ torch
def test_torch_round_trip() -> None:
    torch = pytest.importorskip("torch")
    net = ReLUNetwork.random(3, [5, 4], n_out=2, seed=3)
    module = net.to_torch()
    back = ReLUNetwork.from_torch(module)
    assert back == net
    X = np.random.default_rng(1).normal(size=(10, 3))
    with torch.no_grad():
        y = module(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(y, net.forward(X), rtol=1e-12, atol=1e-12)
    no_out = ReLUNetwork.random(2, [3], n_out=None, seed=0)
    assert ReLUNetwork.from_torch(no_out.to_torch()) == no_out


def test_file_layout_and_torch_bridge_names_still_import_from_network() -> None:
    # The npz layout and the PyTorch bridge live in their own modules; the old import path still works.
    from lpengine import network, network_npz, torch_bridge

    assert network.NPZ_FORMAT_VERSION == network_npz.NPZ_FORMAT_VERSION == 1
    assert network.torch_layers is torch_bridge.torch_layers
    assert set(network.__all__) == {"ReLUNetwork", "LocalAffineMap", "NPZ_FORMAT_VERSION", "torch_layers"}
