"""Tests of ``lpengine crosscheck`` (enumerate_regions vs brute force and the 1-D scan)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from lpengine import ReLUNetwork
from lpengine.cli import main
from lpengine.cli.crosscheck import format_pattern
from tests.cli.envelope import envelope, unwrap


@pytest.fixture
def net_files(tmp_path):
    paths = {}
    ReLUNetwork.random(2, [3, 3], seed=1).save(tmp_path / "two.npz")
    ReLUNetwork.random(1, [4, 4], seed=1).save(tmp_path / "one.npz")
    ReLUNetwork.random(1, [17], seed=0, n_out=None).save(tmp_path / "wide.npz")
    for name in ("two", "one", "wide"):
        paths[name] = str(tmp_path / f"{name}.npz")
    return paths


def test_format_pattern_separates_layers():
    assert format_pattern(np.array([1, -1, 1, -1, -1], dtype=np.int8), (3, 2)) == "+-+|--"


def test_agreeing_counts_give_exit_0_and_one_json_object(net_files, capsys):
    rc = main(["crosscheck", "--net", net_files["one"], "--box", "-2", "2", "--json"])
    out = unwrap(capsys.readouterr().out)
    assert rc == 0
    assert out["agree"] is True
    assert out["counts"]["brute_force"] == out["counts"]["enumerate_regions"] == out["counts"]["scan1d"] >= 2
    assert [c["oracle"] for c in out["checks"]] == ["brute_force", "scan1d"]
    assert out["domain"] == "box"


def test_text_output_for_a_2d_net(net_files, capsys):
    assert main(["crosscheck", "--net", net_files["two"], "--whole-space"]) == 0
    text = capsys.readouterr().out
    assert "brute_force        agrees (same count, same patterns)" in text
    assert text.rstrip().endswith("all counts agree")


def test_a_missing_region_is_reported_with_exit_1(net_files, capsys, monkeypatch):
    import lpengine.regions.enumerate as enum_mod

    real = enum_mod.enumerate_regions

    def drop_last(net, **kw):  # an enumerator that loses one region
        res = real(net, **kw)
        return SimpleNamespace(regions=res.regions[:-1], count=res.count - 1, complete=True, lp_solves=res.lp_solves)

    monkeypatch.setattr(enum_mod, "enumerate_regions", drop_last)
    rc = main(["crosscheck", "--net", net_files["one"], "--box", "-2", "2", "--json"])
    env = envelope(capsys.readouterr().out, "crosscheck")
    out = env["result"]
    assert rc == 1 and env["status"] == "failed" and env["error"]["type"] == "CheckFailed"
    assert "brute_force" in env["error"]["message"] and "scan1d" in env["error"]["message"]
    assert out["agree"] is False
    assert out["counts"]["enumerate_regions"] == out["counts"]["brute_force"] - 1
    assert all(c["n_missing"] == 1 and c["n_extra"] == 0 for c in out["checks"])


def test_too_many_units_is_a_clear_error(net_files, capsys):
    assert main(["crosscheck", "--net", net_files["wide"]]) == 1
    err = capsys.readouterr().err
    # The command line's flag, not the library's keyword argument.
    assert "17 hidden units" in err and "--max-units 17" in err and "max_units=" not in err
    assert main(["crosscheck", "--net", net_files["wide"], "--max-units", "17", "--whole-space", "--json"]) == 0
    assert unwrap(capsys.readouterr().out)["counts"] == {"brute_force": 18, "enumerate_regions": 18, "scan1d": 18}


def test_bundled_network_by_name_and_progress(capsys, monkeypatch, tmp_path):
    # From a folder without the file, the bare name finds the bundled network: the same report as its path.
    bundled = Path(__file__).resolve().parents[2] / "problems" / "regions_default.npz"
    assert main(["crosscheck", "--net", str(bundled), "--json"]) == 0
    by_path = unwrap(capsys.readouterr().out)
    monkeypatch.chdir(tmp_path)
    assert main(["crosscheck", "--net", "regions_default", "--json", "--progress"]) == 0
    text = capsys.readouterr()
    by_name = unwrap(text.out)
    assert by_name["counts"] == by_path["counts"] and by_name["agree"] is True
    assert by_name["network"]["file"].endswith("regions_default.npz") and by_name["network"]["file"] != str(bundled)
    # --progress into a non-terminal: whole lines, no carriage return, the final figures last.
    lines = text.err.splitlines()
    assert "\r" not in text.err and lines[0].startswith("  brute force over the 2^16 = 65,536 sign vectors")
    c = by_name["counts"]
    assert (
        lines[-1] == f"  enumerate_regions {c['enumerate_regions']}, brute_force {c['brute_force']} regions: all agree"
    )
    # Without --progress and without a terminal: nothing on stderr.
    assert main(["crosscheck", "--net", "regions_default"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["crosscheck", "--net", "no_such_net"]) == 1
    assert "no_such_net" in capsys.readouterr().err
