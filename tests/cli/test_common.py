"""The shared CLI contract: exit-code table, JSON envelope (also for errors), big integers, progress, broken pipe."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lpengine import ReLUNetwork
from lpengine.cli import build_parser, main
from lpengine.cli.common import Progress, to_jsonable
from tests.cli.envelope import envelope

REPO = Path(__file__).resolve().parents[2]
PROBLEMS = REPO / "problems"


@pytest.fixture
def files(tmp_path):
    net = tmp_path / "net.npz"
    ReLUNetwork.random(2, [3, 2], seed=0).save(net)
    one = tmp_path / "one.npz"
    ReLUNetwork.random(1, [3], seed=0).save(one)
    data = tmp_path / "d.csv"
    x = np.arange(6.0)
    np.savetxt(data, np.c_[x, 2 * x + 1 + np.array([0, 0.5, -0.5, 0, 1, 0])], delimiter=",")
    toml = tmp_path / "tiny.toml"
    toml.write_text(
        "[problem]\nname = 'tiny'\n[network]\nn_in = 2\nhidden = [4]\nseed = 0\n[data]\nn_samples = 40\nseed = 0\n"
    )
    return {"net": str(net), "one": str(one), "data": str(data), "toml": str(toml), "dir": tmp_path}


def run(capsys, argv):
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


# One success and one failure per subcommand, each also with --json: exit code and envelope agree.
CASES = {
    "count": (["count", "--net", "{net}"], ["count", "--net", "{dir}/missing.npz"]),
    "crosscheck": (["crosscheck", "--net", "{one}"], ["crosscheck", "--net", "{dir}/missing.npz"]),
    "bounds": (["bounds", "--n0", "2", "--widths", "3,2"], ["bounds", "--n0", "0", "--widths", "3"]),
    "analyze": (["analyze", "{toml}"], ["analyze", "{dir}/missing.graphml"]),
    "mistakes": (["mistakes", "adversarial", "--steps", "5"], ["mistakes", "random", "--scale", "0"]),
    "solve": (["solve", "{toml}"], ["solve", "{dir}/missing.toml"]),
    "lad": (["lad", "{data}"], ["lad", "{dir}/missing.csv"]),
    "train": (["train", str(PROBLEMS / "train_linnerud.toml")], ["train", "{dir}/missing.toml"]),
}


def test_every_registered_command_is_in_the_table_test():
    # A new subcommand joins CASES (one success, one failure) so that it is checked against the table.
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == set(CASES)


def _fill(argv, files):
    return [a.format(**files) for a in argv]


@pytest.mark.parametrize("command", sorted(CASES))
def test_every_subcommand_follows_the_table_and_the_envelope(command, files, capsys):
    if command == "train":
        pytest.importorskip("sklearn")  # its problem file reads a scikit-learn dataset
    ok, bad = (_fill(a, files) for a in CASES[command])
    rc, out, err = run(capsys, ok)
    assert rc == 0 and out and not out.lstrip().startswith("{")
    rc, out, _ = run(capsys, [*ok, "--json"])
    env = envelope(out, command)
    assert rc == 0 and env["status"] == "ok" and env["error"] is None and isinstance(env["result"], dict)
    # A failure: one error line on stderr naming the command; with --json the envelope carries the error.
    rc, out, err = run(capsys, bad)
    assert rc == 1 and out == "" and err.startswith(f"lpengine {command}: error: ")
    rc, out, err = run(capsys, [*bad, "--json"])
    env = envelope(out, command)
    assert rc == 1 and env["status"] == "failed" and env["result"] is None
    assert env["error"]["type"] and env["error"]["message"] in err
    # A usage error: exit 2, argparse's message on stderr, and the envelope with --json.
    rc, out, err = run(capsys, [*ok, "--no-such-flag"])
    assert rc == 2 and out == "" and "unrecognized arguments: --no-such-flag" in err
    rc, out, err = run(capsys, [*ok, "--no-such-flag", "--json"])
    env = envelope(out, command)
    assert rc == 2 and env["status"] == "usage" and "--no-such-flag" in env["error"]["message"]


@pytest.mark.parametrize(
    "argv",
    [
        ["count", "--net", "{net}", "--max-regions", "1"],
        ["solve", "{toml}", "--max-pivots", "0"],
        ["analyze", "{toml}", "--max-pivots", "0"],
    ],
)
def test_stopped_early_is_exit_3_incomplete(argv, files, capsys):
    argv = _fill(argv, files)
    rc, out, _ = run(capsys, argv)
    assert rc == 3 and out
    rc, out, _ = run(capsys, [*argv, "--json"])
    env = envelope(out, argv[0])
    assert rc == 3 and env["status"] == "incomplete" and env["error"] is None and env["result"]


def test_no_command_is_a_usage_error(capsys):
    rc, _, err = run(capsys, [])
    assert rc == 2 and "usage: lpengine" in err


def test_help_documents_the_exit_codes_and_the_envelope(capsys):
    for argv in (["--help"], ["count", "--help"], ["solve", "--help"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        out = capsys.readouterr().out
        assert exc.value.code == 0
        for line in ("0  ok", "1  failed", "2  usage", "3  incomplete", "2**53 - 1"):
            assert line in out


def test_big_integer_rule():
    big = 2**53
    got = to_jsonable({"a": 2**53 - 1, "b": big, "c": -big, "d": [np.int64(7), np.float64(0.5), True], "e": 1e400})
    assert got == {"a": 2**53 - 1, "b": str(big), "c": str(-big), "d": [7, 0.5, True], "e": None}
    assert json.loads(json.dumps(got))["b"] == "9007199254740992"


def test_cell_counts_are_typed_numbers_when_small(capsys):
    rc, out, _ = run(capsys, ["solve", str(PROBLEMS / "default.toml"), "--json"])
    cert = envelope(out, "solve")["result"]["certificate"]
    assert rc == 0 and isinstance(cert["n_cells"], int) and cert["n_cells"] == 2 ** cert["n_tight_hidden"]


class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_progress_on_a_terminal_rewrites_one_line_and_ends_with_the_final_figures():
    s = _Stream(tty=True)
    p = Progress(None, stream=s)
    p.interval = 0.0
    p.update("regions 1")
    p.update("regions 10")
    p.close("regions 12 complete")
    text = s.getvalue()
    assert text.startswith("\rregions 1") and text.endswith("\rregions 12 complete\n") and text.count("\n") == 1


def test_progress_off_by_default_when_not_a_terminal_and_never_a_carriage_return_into_a_file():
    s = _Stream(tty=False)
    p = Progress(None, stream=s)
    p.update("regions 1")
    p.close("final")
    assert s.getvalue() == ""
    s = _Stream(tty=False)
    p = Progress(True, stream=s)
    p.file_interval = 0.0
    p.update("regions 1")
    p.update("regions 2")
    p.close("regions 3 complete")
    assert s.getvalue() == "regions 1\nregions 2\nregions 3 complete\n"


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_broken_pipe_exits_quietly(tmp_path, json_flag):
    # The reader is gone before the count is printed (`| true`; `| head -3` once its lines are read):
    # no traceback, no "Broken pipe" message, exit 1.
    net = tmp_path / "n.npz"
    ReLUNetwork.random(2, [6, 6], seed=0).save(net)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = f"{sys.executable} -m lpengine count --net {net} --box -2 2 {' '.join(json_flag)} | true; echo ${{PIPESTATUS[0]}}"
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=env, timeout=120)
    assert proc.stderr == "" and proc.stdout == "1\n"
