"""What a newcomer trips on: errors in the file's own terms, 1-based CSV positions, the solve summary's wording."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from lpengine.cli import main

PROBLEMS = Path(__file__).resolve().parents[2] / "problems"


def _err(capsys, argv) -> str:
    assert main(argv) == 1
    return capsys.readouterr().err


def test_network_errors_name_the_file_and_its_array_keys(tmp_path, capsys):
    path = tmp_path / "net.npz"
    np.savez(path, W0=np.ones((3, 2)), b0=np.zeros(3), W1=np.ones((1, 4)), b1=np.zeros(1), has_output_layer=True)
    err = _err(capsys, ["count", "--net", str(path)])
    assert str(path) in err and "W1 has shape (1, 4)" in err and "weights[" not in err
    np.savez(path, W0=np.ones((3, 2)), b0=np.zeros(2), has_output_layer=False)
    err = _err(capsys, ["count", "--net", str(path)])
    assert "b0 has shape (2,)" in err and "biases[" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["count", "--net", "{f}"],
        ["lad", "{f}"],
        ["count", "--net", str(PROBLEMS / "regions_default.npz"), "--polytope", "{f}"],
    ],
)
def test_a_text_file_named_npz_is_called_what_it_is(tmp_path, capsys, argv):
    f = tmp_path / "weights.npz"
    f.write_text("W0 = [[1, 2]]\n")
    err = _err(capsys, [a.format(f=f) for a in argv])
    assert "not a NumPy .npz file" in err and "text file" in err and "pickled" not in err


def test_csv_positions_are_one_based_as_in_an_editor(tmp_path, capsys):
    f = tmp_path / "d.csv"
    f.write_text("a,b,y\n1,2,3\n4,5,6\n7,x,9\n")  # 'x' is on line 4, column 2
    assert "line 4, column 2: 'x' is not a number" in _err(capsys, ["lad", str(f)])
    f.write_text("1,2,3\n4,5,6\n4,5\n")
    assert "line 3: 2 columns, but line 1 (the first data line) has 3" in _err(capsys, ["lad", str(f)])


def test_problem_file_types_read_as_english(tmp_path, capsys):
    f = tmp_path / "p.toml"
    f.write_text("[network]\nn_in = 2\nhidden = [3]\n[data]\nn_samples = 10\n[solver]\nmax_pivots = 2.5\n")
    err = _err(capsys, ["solve", str(f)])
    assert "solver.max_pivots must be an integer; got 2.5" in err and "a int" not in err


def test_solve_summary_tells_the_two_losses_apart_and_puts_the_proof_first(capsys, caplog):
    with caplog.at_level(logging.INFO, logger="lpengine.cli.solve"):
        assert main(["solve", str(PROBLEMS / "default.toml")]) == 0
    out, err = capsys.readouterr()
    assert err == ""  # stderr is not a terminal here: no progress line
    lines = {line.split()[0] + " " + line.split()[1]: line for line in out.splitlines() if len(line.split()) > 1}
    assert "not a vertex" in lines["start loss"] and "vertex 0 of the trajectory" in lines["first vertex"]
    cert = next(line for line in out.splitlines() if line.startswith("certificate"))
    assert cert.index("Proof: the complete ray test") < cert.index("Confirmation: HiGHS")
    assert "seeded sample" in cert  # the default problem has too many incident cells to check them all
    # The final summary goes to the log instead (shown with -v).
    assert any(
        "default (train) local_minimum" in r.getMessage() and "CERTIFIED" in r.getMessage() for r in caplog.records
    )
