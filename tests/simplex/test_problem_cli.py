"""Problem files, the ``solve``/``lad`` subcommands and trajectory export."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest
from numpy.testing import assert_allclose

from lpengine.cli import main
from lpengine.exceptions import InvalidProblemError
from lpengine.export import read_graph
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
            r"solver\.certify_max_cells must be a int; got 2\.5",
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


def test_cli_solve_json_and_graph(tmp_path, capsys):
    out = tmp_path / "traj.graphml"
    rc = main(["solve", str(PROBLEMS / "default.toml"), "--json", "--graph", str(out), "--quiet"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert d["status"] == "local_minimum" and d["certified"] is True
    G = read_graph(out)
    assert G.number_of_nodes() == d["n_vertices"] and G.number_of_edges() == d["nit"]
    assert_allclose(G.nodes[d["n_vertices"] - 1]["loss"], d["fun"])


def test_cli_solve_budget_and_summary(capsys):
    rc = main(["solve", str(PROBLEMS / "default.toml"), "--max-pivots", "5", "--no-line-search"])
    assert rc == 0
    text = capsys.readouterr()
    assert "status        max_pivots" in text.out and "vertices      6  (pivots 5" in text.out
    assert "pivot" in text.err


def test_cli_lad(tmp_path, capsys):
    x = np.arange(4.0)
    np.savetxt(tmp_path / "d.csv", np.c_[x, [0.0, 1.0, 2.0, 10.0]], delimiter=",")
    assert main(["lad", str(tmp_path / "d.csv"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert_allclose([d["coef"][0], d["intercept"], d["fun"]], [1.0, 0.0, 7.0], atol=1e-12)
    assert main(["lad", str(tmp_path / "nope.csv")]) == 1
    assert "nope.csv" in capsys.readouterr().err


def test_cli_bad_problem_exit_code(tmp_path, capsys):
    assert main(["solve", str(write(tmp_path, "[problem]\ntask = 'fly'\n"))]) == 1
    assert "problem.task" in capsys.readouterr().err


def test_ctrl_c_stops_the_walk_and_reports_it(tmp_path) -> None:
    # --verify makes every vertex a HiGHS check (a few pivots/s): Ctrl-C must end the walk at the
    # current vertex with the partial trajectory reported, exit 1.
    import sys

    from tests.common.interrupt import interrupt_when_running

    rc, out = interrupt_when_running(
        [
            sys.executable,
            "-m",
            "lpengine.cli",
            "solve",
            str(PROBLEMS / "first_layer_500.toml"),
            "--verify",
            "--json",
            "--graph",
            str(tmp_path / "t.graphml"),
        ],
        b"pivot",
        str(tmp_path),
    )
    assert rc == 1
    obj = json.loads(out)
    assert obj["status"] == "stopped" and obj["message"] == "interrupted (Ctrl-C)"
    assert obj["nit"] >= 1 and obj["certified"] is False
    assert read_graph(tmp_path / "t.graphml").number_of_nodes() == obj["n_vertices"]
