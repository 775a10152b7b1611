"""Problem files (:mod:`lpengine.simplex.problem`): loading, validation messages, data files."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
from numpy.testing import assert_allclose

from lpengine.exceptions import InvalidProblemError
from lpengine.simplex import lad
from lpengine.simplex.problem import load_problem, solve_problem

PROBLEMS = pathlib.Path(__file__).resolve().parents[2] / "problems"


def test_shipped_problems_load():
    lad10 = load_problem(PROBLEMS / "lad_10k.toml")
    assert lad10.task == "lad" and lad10.X.shape == (10_000, 4) and lad10.quantile == 0.5
    q = load_problem(PROBLEMS / "quantile_10k.toml")
    assert q.quantile == 0.8 and np.array_equal(q.X, lad10.X) and np.array_equal(q.y, lad10.y)
    fl = load_problem(PROBLEMS / "first_layer_500.toml")
    assert fl.network.hidden_widths == (5, 4, 2) and fl.X.shape == (500, 4) and fl.theta0.shape == (25,)
    assert np.all(np.abs(fl.theta0) <= 20) and np.all(np.abs(fl.X) <= 3) and np.all(np.abs(fl.network.weights[0]) <= 1)
    am = load_problem(PROBLEMS / "argmin_2d.toml")
    assert am.task == "argmin" and am.network.hidden_widths == (10,) * 5 and am.theta0.shape == (2,)


def test_default_problem_runs_and_certifies():
    res = solve_problem(load_problem(PROBLEMS / "default.toml"))
    assert res.status == "local_minimum" and res.certified
    assert np.all(np.diff(res.losses) <= 0)


def test_lad_problem_equals_direct_call():
    p = load_problem(PROBLEMS / "lad_10k.toml")
    r = solve_problem(p)
    assert r.certified and r.fun == lad(p.X, p.y).fun


def write(tmp_path, text):
    f = tmp_path / "p.toml"
    f.write_text(text)
    return f


@pytest.mark.parametrize(
    "text, match",
    [
        ("[problem]\ntask = 'fly'\n", "problem.task"),
        ("[problem]\ntask = 'train'\n", r"\[network\]"),
        ("[network]\nn_in = 'x'\nhidden = [3]\n[data]\nn_samples = 10\n", "network.n_in"),
        ("[network]\nn_in = 2\nhidden = []\n[data]\nn_samples = 10\n", "network.hidden"),
        ("[network]\nn_in = 2\nhidden = [3]\n[data]\nn_samples = 10\n[training]\nlayer = 7\n", "training.layer"),
        (
            "[network]\nn_in = 2\nhidden = [3]\n[data]\nn_samples = 10\n[training]\nquantile = 1.5\n",
            "training.quantile",
        ),
        (
            "[network]\nn_in = 2\nhidden = [3]\n[data]\nn_samples = 10\n[solver]\nmax_pivots = 'many'\n",
            "solver.max_pivots",
        ),
        ("[network]\nn_in = 2\nhidden = [3]\n[data]\nn_samples = 10\n[solver]\nfoo = 1\n", "foo"),
        (
            "[network]\nn_in = 2\nhidden = [3]\n[data]\nn_samples = 10\n[solver]\ncertify_max_cells = 0\n",
            r"solver\.certify_max_cells must be an integer >= 1; got 0",
        ),
        (
            "[network]\nn_in = 2\nhidden = [3]\n[data]\nn_samples = 10\n[solver]\ncertify_max_cells = 2.5\n",
            r"solver\.certify_max_cells must be an integer; got 2\.5",
        ),
        (
            "[network]\nn_in = 2\nhidden = [3]\n[data]\nn_samples = 10\n[solver]\ncertify_max_cells = true\n",
            r"solver\.certify_max_cells",
        ),
        (
            "[network]\nn_in = 2\nhidden = [3]\n[data]\nn_samples = 10\n[solver]\nengine = 'gpu'\n",
            r"solver\.engine must be 'native' or 'highs'; got 'gpu'",
        ),
        ("[network]\nn_in = 2\nhidden = [3]\n[dta]\n", r"\[dta\]"),
        ("[problem]\ntask = 'lad'\n[data]\nkind = 'file'\npath = 'missing.csv'\n", "missing.csv"),
        ("[network\n", "not valid TOML"),
    ],
)
def test_malformed_problem_names_the_field(tmp_path, text, match):
    with pytest.raises(InvalidProblemError, match=match):
        load_problem(write(tmp_path, text))


def test_data_files(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (60, 2))
    y = X @ [1.0, -1.0] + 0.5 + 0.1 * rng.standard_normal(60)
    np.savetxt(tmp_path / "d.csv", np.c_[X, y], delimiter=",", header="a,b,y", comments="")
    np.save(tmp_path / "d.npy", np.c_[X, y])
    np.savez(tmp_path / "d.npz", X=X, y=y)
    ref = lad(X, y)
    for name in ("d.csv", "d.npy", "d.npz"):
        p = load_problem(write(tmp_path, f"[problem]\ntask = 'lad'\n[data]\nkind = 'file'\npath = '{name}'\n"))
        assert_allclose(solve_problem(p).x, ref.x, rtol=1e-12, atol=1e-12)
