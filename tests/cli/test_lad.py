"""``lpengine lad``: LAD / quantile regression from a data file."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose

from lpengine.cli import main
from tests.cli.envelope import unwrap


def test_cli_lad(tmp_path, capsys):
    x = np.arange(4.0)
    np.savetxt(tmp_path / "d.csv", np.c_[x, [0.0, 1.0, 2.0, 10.0]], delimiter=",")
    assert main(["lad", str(tmp_path / "d.csv"), "--json"]) == 0
    d = unwrap(capsys.readouterr().out)
    assert_allclose([d["coef"][0], d["intercept"], d["fun"]], [1.0, 0.0, 7.0], atol=1e-12)
    assert main(["lad", str(tmp_path / "nope.csv")]) == 1
    assert "nope.csv" in capsys.readouterr().err
