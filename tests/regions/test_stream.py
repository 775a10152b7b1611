"""keep_regions=False: the count and statistics equal the kept run's, serially, with 2 processes and on Dask."""

from __future__ import annotations

import numpy as np
import pytest

from lpengine import ReLUNetwork
from lpengine.exceptions import CheckpointError
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


def shard_rows(folder) -> list[bytes]:
    """Every pattern row of every shard file in ``folder`` (duplicates kept)."""
    rows = []
    for f in sorted(folder.glob("regions-*.npz")):
        with np.load(f, allow_pickle=False) as z:
            rows += [r.tobytes() for r in z["signs"]]
    return rows


@pytest.mark.parametrize("jobs", [1, 2])
def test_shards_of_an_interrupted_and_resumed_run_hold_every_region_once(tmp_path, monkeypatch, jobs) -> None:
    # A run stops (budget) with a checkpoint, goes on and writes more shards, then "dies": its newer
    # checkpoint is lost (the older file put back), its newer shards stay.  The resume must drop them and
    # count their regions again: the shards end up holding every pattern exactly once.
    import shutil

    import lpengine.regions.parallel as par
    import lpengine.regions.stream as stream

    monkeypatch.setattr(stream, "SHARD_SIZE", 23)  # many shards, and rows carried in the checkpoint
    monkeypatch.setattr(par, "_START_WORKERS_AT", 1)
    net = ReLUNetwork.random(3, [10, 10], seed=3)
    kept = enumerate_regions(net)
    want = {r.pattern.signs.astype(np.int8).tobytes() for r in kept.regions}
    ck, old, sh = tmp_path / "ck.npz", tmp_path / "old.npz", tmp_path / "shards"
    kw = {"keep_regions": False, "shards_dir": sh, "n_jobs": jobs}
    with pytest.warns(Warning):
        first = enumerate_regions(net, checkpoint=ck, max_regions=60, **kw)
    assert first.count == 60 and len(shard_rows(sh)) == 60  # 2 shards of 23 + the final 14 (not committed)
    shutil.copy(ck, old)
    with pytest.warns(Warning):
        second = enumerate_regions(net, resume=ck, max_regions=130, **kw)
    assert second.count == 130 and len(shard_rows(sh)) == 130
    shutil.copy(old, ck)  # the crash: back to the first checkpoint, 70 regions too many on disk
    res = enumerate_regions(net, resume=ck, **kw)
    rows = shard_rows(sh)
    assert res.complete and res.count == kept.count == len(rows) and set(rows) == want
    assert res.streamed["shards"] == len(list(sh.glob("regions-*.npz"))) == -(-kept.count // 23)
    assert not list(sh.glob("*.tmp.npz"))


def test_shards_and_checkpoints_refuse_what_would_lose_or_duplicate_rows(tmp_path, monkeypatch) -> None:
    import lpengine.regions.stream as stream

    monkeypatch.setattr(stream, "SHARD_SIZE", 10)
    net = ReLUNetwork.random(3, [10, 10], seed=3)
    with pytest.raises(ValueError, match="keep_regions=False"):
        enumerate_regions(net, shards_dir=tmp_path)
    sh, ck, plain = tmp_path / "s", tmp_path / "c.npz", tmp_path / "plain.npz"
    with pytest.warns(Warning):
        enumerate_regions(net, keep_regions=False, checkpoint=ck, shards_dir=sh, max_regions=25)
        enumerate_regions(net, keep_regions=False, checkpoint=plain, max_regions=25)
    with pytest.raises(ValueError, match="already holds 3 region shard file"):
        enumerate_regions(net, keep_regions=False, shards_dir=sh)  # a fresh run into a used folder
    with pytest.raises(CheckpointError, match="resume it with shards_dir="):
        enumerate_regions(net, keep_regions=False, resume=ck)
    with pytest.raises(CheckpointError, match="written without shards_dir"):
        enumerate_regions(net, keep_regions=False, resume=plain, shards_dir=tmp_path / "t")
    (sh / "regions-00001.npz").unlink()
    with pytest.raises(CheckpointError, match="'regions-00001.npz' is missing"):
        enumerate_regions(net, keep_regions=False, resume=ck, shards_dir=sh)
