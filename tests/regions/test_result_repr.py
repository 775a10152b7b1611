"""Short reprs and notebook cards of region results: the size does not grow with the number of regions."""

from __future__ import annotations

import numpy as np

from lpengine import ReLUNetwork, enumerate_regions


def test_enumeration_repr_is_short_and_card_is_bounded() -> None:
    res = enumerate_regions(ReLUNetwork.random(2, [10, 10], seed=0), box=(-3, 3))
    assert res.count > 100
    r = repr(res)
    assert r.startswith(f"RegionEnumeration(count={res.count:_d}, complete=True, domain='box [-3, 3]^2', seconds=")
    assert len(r) < 150 and "\n" not in r
    h = res._repr_html_()
    assert "<b>RegionEnumeration</b>" in h and f"{res.count:,d}" in h
    assert h.count("<tr>") == 5 + 1 + 8 + 1  # facts, table header, 8 regions, "... and N more"
    assert f"... and {res.count - 8:,d} more" in h
    assert len(h) < 4000


def test_region_repr_hides_arrays() -> None:
    res = enumerate_regions(ReLUNetwork((np.eye(2),), (np.array([-0.2, 0.3]),), has_output_layer=False))
    r = next(r for r in res.regions if str(r.pattern) == "++")
    assert repr(r) == f"Region(pattern='++', margin={float(f'{r.margin:.4g}'):g}, n_facets=4, bounded=True)"


def test_incomplete_enumeration_says_so() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = enumerate_regions(ReLUNetwork.random(2, [6, 6], seed=0), box=(-3, 3), max_regions=5)
    assert "complete=False" in repr(res)
    assert "INCOMPLETE" in res._repr_html_() and "lower bound" in res._repr_html_()
