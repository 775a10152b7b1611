"""``lpengine solve``: JSON, trajectory export, budgets, errors and Ctrl-C."""

from __future__ import annotations

import pathlib

from numpy.testing import assert_allclose

from lpengine.cli import main
from lpengine.export import read_graph
from tests.cli.envelope import unwrap

PROBLEMS = pathlib.Path(__file__).resolve().parents[2] / "problems"


def write(tmp_path, text):
    f = tmp_path / "p.toml"
    f.write_text(text)
    return f


def test_cli_solve_json_and_graph(tmp_path, capsys):
    out = tmp_path / "traj.graphml"
    rc = main(["solve", str(PROBLEMS / "default.toml"), "--json", "--graph", str(out), "--quiet"])
    assert rc == 0
    d = unwrap(capsys.readouterr().out)
    assert d["status"] == "local_minimum" and d["certified"] is True
    G = read_graph(out)
    # One edge per pivot and per restart (escape / revival): a path through all vertices.
    assert G.number_of_nodes() == d["n_vertices"] and G.number_of_edges() == d["n_vertices"] - 1
    assert d["n_vertices"] == d["nit"] + 1 + d["escapes"] + d["revivals"]
    assert sum(kind == "pivot" for _, _, kind in G.edges(data="kind")) == d["nit"]
    assert_allclose(G.nodes[d["n_vertices"] - 1]["loss"], d["fun"])


def test_cli_solve_budget_and_summary(capsys):
    # A budget stop is "incomplete" (exit 3); stderr is not a terminal here, so no progress by default.
    rc = main(["solve", str(PROBLEMS / "default.toml"), "--max-pivots", "5", "--no-line-search"])
    assert rc == 3
    text = capsys.readouterr()
    assert "status        max_pivots" in text.out and "vertices      6  (pivots 5" in text.out
    assert text.err == ""
    # Forced on into a non-terminal: whole lines, never a carriage return, and the last line has the final figures.
    rc = main(["solve", str(PROBLEMS / "default.toml"), "--max-pivots", "5", "--no-line-search", "--progress"])
    err = capsys.readouterr().err
    assert rc == 3 and "\r" not in err and err.endswith("\n")
    assert err.splitlines()[-1].startswith("done  max_pivots: loss") and "after 5 pivots" in err.splitlines()[-1]


def test_cli_bad_problem_exit_code(tmp_path, capsys):
    assert main(["solve", str(write(tmp_path, "[problem]\ntask = 'fly'\n"))]) == 1
    assert "problem.task" in capsys.readouterr().err


def test_ctrl_c_stops_the_walk_and_reports_it(tmp_path) -> None:
    # --verify makes every vertex a HiGHS check (a few pivots/s), so the walk is mid-way when the first
    # "pivot" progress line appears: SIGINT must end it at the last vertex, status "interrupted", with
    # the partial trajectory reported and exit 3 (incomplete).
    import sys

    from tests.common.interrupt import interrupt_when_running

    rc, out = interrupt_when_running(
        [
            sys.executable,
            "-m",
            "lpengine",
            "solve",
            str(PROBLEMS / "first_layer_500.toml"),
            "--verify",
            "--json",
            "--graph",
            str(tmp_path / "t.graphml"),
            "--progress",
        ],
        b"pivot",
        str(tmp_path),
    )
    assert rc == 3
    obj = unwrap(out, "solve")
    assert obj["status"] == "interrupted" and obj["message"].startswith("interrupted (Ctrl-C): interrupted")
    assert obj["nit"] >= 1 and obj["certified"] is False and obj["certificate"] is None
    assert obj["n_vertices"] == obj["nit"] + 1 + obj["escapes"] + obj["revivals"]
    G = read_graph(tmp_path / "t.graphml")
    assert G.number_of_nodes() == obj["n_vertices"] and G.graph["status"] == "interrupted"
    losses = [G.nodes[k]["loss"] for k in range(G.number_of_nodes())]
    assert all(b <= a for a, b in zip(losses, losses[1:], strict=False)) and losses[-1] == obj["fun"]


def test_cli_solve_lad_problem_speaks_of_a_global_minimum(capsys):
    # LAD is convex: the summary says "global minimum" and nothing of the DRS's hidden cells or local minima.
    assert main(["solve", str(PROBLEMS / "lad_10k.toml")]) == 0
    out = capsys.readouterr().out
    cert = next(line for line in out.splitlines() if line.startswith("certificate"))
    assert "CERTIFIED global minimum (the loss is convex)" in cert
    assert "local" not in out and "hidden" not in out and "HiGHS" not in out
