"""all_bounds: one frozen table with every bound, applicability notes, JSON-ready dict."""

from __future__ import annotations

import dataclasses

import pytest

from lpengine.bounds import all_bounds

REFERENCE = {  # reference notes §8 (upper and lower), plus the activation-count bound derived in lpengine
    (2, (4, 4)): dict(
        zaslavsky_first_layer=11,
        montufar2014_upper=256,
        raghu_style_upper=121,
        montufar2017_upper=121,
        serra2018_upper=121,
        activation_counts_upper=109,
        montufar2014_lower=44,
        pascanu2013_lower=22,
        serra2018_thm6_lower=None,
        serra2018_thm7_lower=20,
        arora2018_lower=16,
    ),
    (1, (5, 5)): dict(
        zaslavsky_first_layer=6,
        montufar2014_upper=1024,
        raghu_style_upper=36,
        montufar2017_upper=36,
        serra2018_upper=36,
        activation_counts_upper=36,
        serra2018_1d_exact=36,
        montufar2014_lower=30,
        pascanu2013_lower=30,
        serra2018_thm6_lower=36,
    ),
    (2, (3, 3, 3)): dict(
        zaslavsky_first_layer=7,
        montufar2014_upper=512,
        raghu_style_upper=343,
        montufar2017_upper=343,
        serra2018_upper=208,
        activation_counts_upper=208,
        montufar2014_lower=7,
        pascanu2013_lower=7,
        serra2018_thm7_lower=32,
        arora2018_lower=18,
    ),
    (3, (4, 4, 4)): dict(
        zaslavsky_first_layer=15,
        montufar2014_upper=4096,
        raghu_style_upper=3375,
        montufar2017_upper=3375,
        serra2018_upper=1631,
        activation_counts_upper=1559,
        montufar2014_lower=15,
        pascanu2013_lower=15,
        serra2018_thm7_lower=100,
        arora2018_lower=64,
    ),
}


@pytest.mark.parametrize("key", list(REFERENCE))
def test_reference_rows(key):
    n0, widths = key
    t = all_bounds(n0, widths)
    d = t.as_dict()
    for name, value in REFERENCE[key].items():
        assert d[name] == value, name
    assert t.widths == widths and t.n0 == n0
    assert t.best_upper == min(v for k, v in d.items() if k.endswith("_upper") or k.endswith("_exact"))
    assert t.best_lower <= t.best_upper
    assert d["raghu2017_order"].startswith("O(")


def test_not_applicable_rows_say_why_and_table_is_frozen():
    t = all_bounds(2, [4, 4])
    row = t["serra2018_thm6_lower"]
    assert row.value is None and "3*n0" in row.note
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.n0 = 3  # type: ignore[misc]
    with pytest.raises(KeyError, match="serra2018_upper"):
        t["nope"]
    assert "serra2018_rank_upper" not in t.names
    assert all_bounds(2, [4, 4], ranks=[1, 4])["serra2018_rank_upper"].value == 55
    assert "serra2018_1d_exact" not in t.names
    assert all_bounds(1, [2, 3])["serra2018_1d_exact"].value is None


def test_big_architecture_is_exact():
    t = all_bounds(100, [100] * 100)
    assert t["montufar2014_upper"].value == 2**10000
    assert t["montufar2017_upper"].value == 2**10000
    assert t["serra2018_upper"].value < t["montufar2017_upper"].value
    assert t["activation_counts_upper"].value <= t["serra2018_upper"].value
    assert isinstance(t["serra2018_upper"].value, int)
