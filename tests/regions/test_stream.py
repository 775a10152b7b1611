"""keep_regions=False: the count and statistics equal the kept run's, serially, with 2 processes and on Dask."""

from __future__ import annotations

import numpy as np
import pytest

from lpengine import ReLUNetwork
from lpengine.regions import enumerate_regions


def same_summary(a, b) -> None:
    assert a.complete and b.complete
    assert a.count == b.count and a.n_bounded == b.n_bounded
    assert a.thin_patterns == b.thin_patterns and a.layer_stats == b.layer_stats
    assert a.summary()["min_margin"] is not None


@pytest.mark.parametrize("kw", [{"box": (-2, 2)}, {"whole_space": True}])
def test_streamed_equals_kept_and_shards_hold_every_region(tmp_path, kw) -> None:
    net = ReLUNetwork.random(2, [8, 8], seed=1)
    kept = enumerate_regions(net, **kw)
    res = enumerate_regions(net, keep_regions=False, shards_dir=tmp_path, **kw)
    same_summary(res, kept)
    assert res.regions == () and res.edges == ()
    # The shards (100 regions each here would be one shard; the default size is 10,000): every pattern once.
    files = sorted(tmp_path.glob("regions-*.npz"))
    assert len(files) == res.streamed["shards"] == 1
    with np.load(files[0], allow_pickle=False) as z:
        pats = {row.tobytes() for row in z["signs"]}
        assert z["witness"].shape == (res.count, 2) and z["bounded"].shape == (res.count,)
    assert pats == {r.pattern.signs.astype(np.int8).tobytes() for r in kept.regions}


def test_streamed_with_two_processes_and_a_budget() -> None:
    net = ReLUNetwork.random(3, [10, 10], seed=2)
    kept = enumerate_regions(net)
    same_summary(enumerate_regions(net, keep_regions=False, n_jobs=2), kept)
    with pytest.warns(Warning):
        part = enumerate_regions(net, keep_regions=False, n_jobs=2, max_regions=40)
    assert part.count == 40 and not part.complete


def test_streamed_on_a_dask_local_cluster() -> None:
    distributed = pytest.importorskip("distributed")
    net = ReLUNetwork.random(2, [10, 10], seed=3)
    kept = enumerate_regions(net, whole_space=True)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        same_summary(enumerate_regions(net, whole_space=True, keep_regions=False, client=c), kept)


def test_streamed_refuses_stray_shards_and_shards_with_checkpoints(tmp_path) -> None:
    net = ReLUNetwork.random(2, [3], seed=0)
    with pytest.raises(ValueError, match="shards_dir= takes no checkpoint or resume"):
        enumerate_regions(net, keep_regions=False, checkpoint=tmp_path / "c.npz", shards_dir=tmp_path / "s")
    with pytest.raises(ValueError, match="keep_regions=False"):
        enumerate_regions(net, shards_dir=tmp_path)
