"""``lpengine bounds``: table, JSON keyed by bound name, --net with exact counts, usage errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lpengine import ReLUNetwork
from lpengine.cli import main
from tests.cli.envelope import unwrap


def _run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_table_and_json(capsys):
    rc, out, _ = _run(capsys, "bounds", "--n0", "2", "--widths", "4,4")
    assert rc == 0 and "serra2018_upper" in out and "109" in out and "44" in out
    rc, out, _ = _run(capsys, "bounds", "--n0", "3", "--widths", "4,4,4", "--json")
    obj = unwrap(out, "bounds")
    b = obj["bounds"]
    assert rc == 0 and out.count("\n") == 1
    assert b["serra2018_upper"] == 1631 and b["activation_counts_upper"] == 1559
    assert b["serra2018_thm7_lower"] == 100 and b["serra2018_thm6_lower"] is None
    assert obj["n0"] == 3 and obj["widths"] == [4, 4, 4]
    assert obj["best_upper"] <= 1559 and obj["best_lower"] >= 100
    row = next(e for e in obj["entries"] if e["name"] == "serra2018_upper")
    assert row["kind"] == "upper" and row["value"] == 1631 and "Serra" in row["source"]


def test_big_values_are_exact_decimal_strings_in_json(capsys):
    # The documented rule: integers beyond 2**53 - 1 are decimal strings, smaller ones stay numbers.
    rc, out, _ = _run(capsys, "bounds", "--n0", "5", "--widths", ",".join(["40"] * 30), "--json")
    b = unwrap(out)["bounds"]
    assert rc == 0 and b["montufar2014_upper"] == str(2**1200)
    assert '"montufar2014_upper": "' in out
    rc, out, _ = _run(capsys, "bounds", "--n0", "1", "--widths", "2", "--json")
    assert isinstance(unwrap(out)["bounds"]["zaslavsky_first_layer"], int)


def test_ranks_option(capsys):
    rc, out, _ = _run(capsys, "bounds", "--n0", "2", "--widths", "4,4", "--ranks", "1,2", "--json")
    assert rc == 0 and unwrap(out)["bounds"]["serra2018_rank_upper"] == 55


def test_net_with_exact_counts(capsys, tmp_path):
    path = tmp_path / "net.npz"
    ReLUNetwork.random(2, [3, 3], n_out=1, seed=2).save(path)
    rc, out, _ = _run(capsys, "bounds", "--net", str(path), "--box", "-3", "3", "--json")
    obj = unwrap(out)["empirical"]
    assert (
        rc == 0
        and obj["exact_count"] == 17
        and obj["complete"] is True
        and obj["all_checks_pass"] is True
        and obj["domain"] == "box [-3, 3]^2"
    )
    assert [h["exact_count"] for h in obj["layers"]] == [7, 17]
    assert obj["layers"][1]["dimension_histogram"] == [4, 10, 3, 0]
    assert all(all(h["framework_dominates"].values()) for h in obj["layers"])
    rc, out, _ = _run(capsys, "bounds", "--net", str(path), "--box", "-3", "3")
    assert rc == 0 and "exact count (box [-3, 3]^2): 17" in out and "[ok]" in out


@pytest.mark.parametrize(
    "argv,rc,msg",
    [
        (["bounds", "--n0", "0", "--widths", "3"], 1, "n0"),
        (["bounds", "--n0", "2", "--widths", "3,0"], 1, "widths[1]"),
        (["bounds", "--widths", "3"], 1, "--n0"),
        (["bounds", "--n0", "2", "--widths", "3", "--box", "0", "1"], 1, "--box"),
    ],
)
def test_errors(capsys, argv, rc, msg):
    got, _, err = _run(capsys, *argv)
    assert got == rc and msg in err


def test_usage_errors(capsys):
    assert main(["bounds", "--n0", "2", "--widths", "3,x"]) == 2
    assert "comma-separated integers" in capsys.readouterr().err
    assert main(["bounds", "--n0", "2"]) == 2
    assert "--widths" in capsys.readouterr().err


def test_bundled_network_by_name_and_progress(capsys, monkeypatch, tmp_path):
    bundled = Path(__file__).resolve().parents[2] / "problems" / "regions_default.npz"
    rc, out, _ = _run(capsys, "bounds", "--net", str(bundled), "--json")
    by_path = unwrap(out)["empirical"]
    monkeypatch.chdir(tmp_path)  # the bare name now names no file here: the bundled network is used
    rc, out, err = _run(capsys, "bounds", "--net", "regions_default", "--json", "--progress")
    by_name = unwrap(out)["empirical"]
    assert rc == 0 and by_name == by_path
    counts = [h["exact_count"] for h in by_name["layers"]]
    lines = err.splitlines()
    # start line, one line per layer as its count ends (live lines are throttled to one per 5 s in a file),
    # and the final figures
    assert lines[0] == "  exact counts of the 2 prefix networks of regions_default.npz ..."
    assert lines[-1] == f"  exact counts per layer {counts} ({by_name['domain']}): all bounds hold"
    done = [ln for ln in lines if " done: " in ln]
    assert len(done) == 2 and len(lines) <= 2 + len(done) + 2
    for l, (line, c) in enumerate(zip(done, counts, strict=True), start=1):
        assert re.fullmatch(rf"  layer {l}/2 done: {c} regions, \d+\.\d s", line), line
    rc, out, err = _run(capsys, "bounds", "--net", "regions_default")
    assert rc == 0 and err == "" and f"exact count ({by_name['domain']}): {counts[-1]}" in out
