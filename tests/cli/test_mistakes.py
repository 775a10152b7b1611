"""``lpengine mistakes``: JSON output carries the exact counts; bad input exits 1."""

from __future__ import annotations

import pytest

from lpengine.cli import main
from tests.cli.envelope import unwrap


def test_mistakes_adversarial_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mistakes", "adversarial", "--steps", "25", "--json"]) == 0
    out = unwrap(capsys.readouterr().out)
    assert out["mistakes_least_consistent"] == out["mistakes_halving"] == out["n_steps"] == 25
    assert out["hypothesis_class"]["size"] == 6561


def test_mistakes_realizable_json_small_class(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["mistakes", "realizable", "--width", "1", "--scale", "2", "--steps", "40", "--targets", "0", "--json"]
    assert main(argv) == 0
    out = unwrap(capsys.readouterr().out)
    assert out["n_hypotheses"] == 25 and len(out["targets"]) == 25
    assert out["max_mistakes_least_consistent"] <= out["bound_least_consistent"] == 24
    assert out["max_mistakes_halving"] <= out["bound_halving"] == 4


def test_mistakes_random_and_refinement_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mistakes", "random", "--steps", "100", "--seed", "2"]) == 0
    text = capsys.readouterr().out
    assert "random labels, T = 100" in text and "binomial band [37, 63]" in text
    assert main(["mistakes", "refinement", "--levels", "3", "4"]) == 0
    text = capsys.readouterr().out
    assert text.count("\n") == 5 and "refinement (target hypothesis" in text


def test_mistakes_bad_input_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mistakes", "random", "--scale", "0"]) == 1
    assert "'scale' parameter" in capsys.readouterr().err
    assert main(["mistakes", "refinement", "--n-in", "2", "--width", "1", "--scale", "1"]) == 1
    assert "n_in = 1" in capsys.readouterr().err
