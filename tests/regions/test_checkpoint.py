"""Checkpoint and resume of a region search: exact equality with an uninterrupted run, refusals, signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from lpengine import ReLUNetwork
from lpengine.exceptions import CheckpointError
from lpengine.regions import enumerate_regions

NET = ReLUNetwork.random(3, [10, 10], seed=3)


def _regions(res):
    """Everything a region carries, by pattern (bit for bit)."""
    return {
        str(r.pattern): (
            r.witness.tobytes(),
            r.margin,
            r.affine.A.tobytes(),
            r.affine.c.tobytes(),
            r.facet_units,
            r.thin,
        )
        for r in res.regions
    }


def _edges(res):
    pat = [str(r.pattern) for r in res.regions]
    return {frozenset((pat[i], pat[j])) for i, j, _ in res.edges}


@pytest.fixture(scope="module")
def full():
    return enumerate_regions(NET)


@pytest.mark.parametrize("step", [1, 37])
def test_serial_resume_equals_uninterrupted_bit_for_bit(tmp_path, full, step):
    path = tmp_path / "ck.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = enumerate_regions(NET, max_regions=step, checkpoint=path)
        n = 1
        while not res.complete:
            n += 1
            res = enumerate_regions(NET, max_regions=step * n, resume=path)
    assert n > 2 and res.count == full.count
    assert [str(r.pattern) for r in res.regions] == [str(r.pattern) for r in full.regions]  # the same order
    assert _regions(res) == _regions(full)
    assert res.edges == full.edges


def test_resume_of_a_finished_search_returns_it(tmp_path, full):
    path = tmp_path / "ck.npz"
    enumerate_regions(NET, checkpoint=path)
    again = enumerate_regions(NET, resume=path)
    assert again.complete and _regions(again) == _regions(full) and again.edges == full.edges


def test_work_sharing_resume_equals_uninterrupted(tmp_path, full, monkeypatch):
    import lpengine.regions.parallel as par

    monkeypatch.setattr(par, "_START_WORKERS_AT", 1)  # the workers take part at once
    path = tmp_path / "ck.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = enumerate_regions(NET, max_regions=40, checkpoint=path, n_jobs=2)
        k = 1
        while not res.complete:
            k += 1
            res = enumerate_regions(NET, max_regions=40 * k, resume=path, n_jobs=2)
    assert k > 2 and res.count == full.count
    assert set(_regions(res)) == set(_regions(full))
    assert _edges(res) == _edges(full)


def _streamed_summary(res):
    return (res.count, res.n_bounded, res.thin_patterns, res.layer_stats)


@pytest.mark.parametrize("kw", [{}, {"whole_space": True}])
def test_streamed_resume_equals_uninterrupted(tmp_path, kw, monkeypatch):
    # keep_regions=False with a checkpoint, serially and with two processes: the checkpoint holds the
    # statistics (no region), and a chain of stops and resumes, alternating serial and shared steps,
    # ends with the count and statistics of an uninterrupted run, and of the kept run (whose statistics
    # come from the regions themselves).
    import lpengine.regions.parallel as par

    monkeypatch.setattr(par, "_START_WORKERS_AT", 1)  # the workers take part at once
    net = NET if not kw else ReLUNetwork.random(3, [7, 6], seed=4)
    kept = enumerate_regions(net, **kw)
    whole = enumerate_regions(net, keep_regions=False, **kw)
    assert _streamed_summary(whole) == _streamed_summary(kept)
    path = tmp_path / "ck.npz"
    step = 23
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = enumerate_regions(net, keep_regions=False, max_regions=step, checkpoint=path, **kw)
        assert res.count == step and not res.complete
        with np.load(path, allow_pickle=False) as z:
            assert z["w_signs"].shape[0] == 0 and int(z["s_active_sum"].sum()) > 0  # statistics, no region
        k = 1
        while not res.complete:
            k += 1
            res = enumerate_regions(net, keep_regions=False, max_regions=step * k, resume=path, n_jobs=1 + k % 2, **kw)
            assert res.complete or res.count == step * k  # the budget counts the resumed regions too
    assert k > 3
    assert _streamed_summary(res) == _streamed_summary(kept)
    assert res.regions == () and res.edges == ()


def test_streamed_serial_resume_is_bit_for_bit(tmp_path):
    # Serially even the smallest margin (a float of one witness) is that of the uninterrupted run.
    whole = enumerate_regions(NET, keep_regions=False)
    path = tmp_path / "ck.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enumerate_regions(NET, keep_regions=False, max_regions=50, checkpoint=path)
    res = enumerate_regions(NET, keep_regions=False, resume=path)
    timing = ("seconds", "regions_per_second")
    got, want = ({k: v for k, v in r.summary().items() if k not in timing} for r in (res, whole))
    assert res.complete and got == want and got["min_margin"] is not None


def test_kept_and_streamed_checkpoints_do_not_mix(tmp_path):
    kept, streamed = tmp_path / "kept.npz", tmp_path / "streamed.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enumerate_regions(NET, max_regions=5, checkpoint=kept)
        enumerate_regions(NET, max_regions=5, checkpoint=streamed, keep_regions=False)
    with pytest.raises(CheckpointError, match="resume it with keep_regions=True"):
        enumerate_regions(NET, resume=kept, keep_regions=False)
    with pytest.raises(CheckpointError, match="resume it with keep_regions=False"):
        enumerate_regions(NET, resume=streamed)
    with pytest.raises(CheckpointError, match="written without shards_dir"):
        enumerate_regions(NET, resume=streamed, keep_regions=False, shards_dir=tmp_path / "s")


def test_checkpoint_of_another_search_is_refused(tmp_path):
    path = tmp_path / "ck.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enumerate_regions(NET, max_regions=5, checkpoint=path)
    other = ReLUNetwork(NET.weights, [b + np.r_[1e-16, np.zeros(b.size - 1)] for b in NET.biases])
    for kw in ({"net": other}, {"box": (-2, 2)}, {"whole_space": True}, {"method": "lp"}):
        net = kw.pop("net", NET)
        with pytest.raises(CheckpointError, match="another search"):
            enumerate_regions(net, resume=path, **kw)


def test_malformed_checkpoints_are_refused(tmp_path):
    missing = tmp_path / "none.npz"
    with pytest.raises(CheckpointError, match="does not exist"):
        enumerate_regions(NET, resume=missing)
    text = tmp_path / "text.npz"
    text.write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="not an lpengine region checkpoint"):
        enumerate_regions(NET, resume=text)
    # A pickled object inside is never loaded (allow_pickle=False).
    evil = tmp_path / "evil.npz"
    np.savez(evil, header=np.array([{"format": "x"}], dtype=object))
    with pytest.raises(CheckpointError, match="not an lpengine region checkpoint"):
        enumerate_regions(NET, resume=evil)
    # Another format version.
    good = tmp_path / "ck.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enumerate_regions(NET, max_regions=5, checkpoint=good)
    with np.load(good) as z:
        data = {k: z[k] for k in z.files}
    header = json.loads(str(data["header"]))
    header["version"] = 99
    data["header"] = np.array(json.dumps(header))
    np.savez(good, **data)
    with pytest.raises(CheckpointError, match="format version 99"):
        enumerate_regions(NET, resume=good)


# -- signals, in a real subprocess ------------------------------------------------------------------


def _count_cmd(net_file: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "lpengine", "count", "--net", str(net_file), "--json", *extra]


@pytest.fixture(scope="module")
def slow_net(tmp_path_factory):
    """A net whose count takes a few seconds, and its uninterrupted count."""
    net = ReLUNetwork.random(4, [14, 14], seed=11)
    path = tmp_path_factory.mktemp("net") / "net.npz"
    net.save(path)
    return path, enumerate_regions(net).count


def _interrupt_and_resume(tmp_path: Path, slow_net, sig: int, jobs: str, *extra: str) -> None:
    net_file, expected = slow_net
    ck = tmp_path / "ck.npz"
    proc = subprocess.Popen(
        _count_cmd(net_file, "--checkpoint", str(ck), "--checkpoint-every", "0.2", "--jobs", jobs, *extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not ck.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)
    if proc.poll() is not None:
        pytest.skip("the count finished before it could be interrupted (machine too fast for this net)")
    os.kill(proc.pid, sig)
    proc.communicate(timeout=60)
    resumed = subprocess.run(
        _count_cmd(net_file, "--resume", str(ck), *extra), capture_output=True, text=True, timeout=300
    )
    env = json.loads(resumed.stdout)
    assert env["status"] == "ok", resumed.stderr
    assert env["result"]["count_lower"] == env["result"]["count_upper"] == expected


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_or_terminated_count_resumes_to_the_exact_count(tmp_path, slow_net, sig):
    _interrupt_and_resume(tmp_path, slow_net, sig, "1")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_interrupted_work_sharing_count_resumes_to_the_exact_count(tmp_path, slow_net, sig):
    _interrupt_and_resume(tmp_path, slow_net, sig, "2")


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_killed_streamed_count_resumes_to_the_exact_count(tmp_path, slow_net, jobs):
    _interrupt_and_resume(tmp_path, slow_net, signal.SIGKILL, jobs, "--no-keep-regions")


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_killed_count_with_shards_resumes_to_every_region_once(tmp_path, slow_net, jobs):
    # SIGKILL a streamed count writing small shards (50 regions each) with checkpoints every 0.2 s, resume
    # it: the shards hold every pattern of the uninterrupted run exactly once.
    net_file, expected = slow_net
    want = {r.pattern.signs.astype(np.int8).tobytes() for r in enumerate_regions(ReLUNetwork.load(net_file)).regions}
    ck, sh = tmp_path / "ck.npz", tmp_path / "shards"
    args = ["count", "--net", str(net_file), "--json", "--no-keep-regions", "--shards", str(sh)]
    code = (
        "import sys; import lpengine.regions.stream as s; s.SHARD_SIZE = 50; "
        "from lpengine.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args, "--checkpoint", str(ck), "--checkpoint-every", "0.2", "--jobs", jobs],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not ck.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)
    if proc.poll() is not None:
        pytest.skip("the count finished before it could be interrupted (machine too fast for this net)")
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    resumed = subprocess.run(
        [sys.executable, "-c", code, *args, "--resume", str(ck)], capture_output=True, text=True, timeout=300
    )
    env = json.loads(resumed.stdout)
    assert env["status"] == "ok", resumed.stderr
    assert env["result"]["count_lower"] == env["result"]["count_upper"] == expected
    rows = []
    for f in sorted(sh.glob("regions-*.npz")):
        with np.load(f, allow_pickle=False) as z:
            rows += [r.tobytes() for r in z["signs"]]
    assert len(rows) == expected and set(rows) == want


def test_workers_exit_when_the_parent_is_killed(slow_net):
    psutil = pytest.importorskip("psutil")
    net_file, _ = slow_net
    proc = subprocess.Popen(_count_cmd(net_file, "--jobs", "2"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 60
    children = []
    while not children and time.monotonic() < deadline and proc.poll() is None:
        children = parent.children(recursive=True)
        time.sleep(0.05)
    if not children:
        proc.kill()
        proc.communicate()
        pytest.skip("the count finished before its workers started")
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    gone, alive = psutil.wait_procs(children, timeout=20)
    for p in alive:
        p.kill()
    assert not alive, f"{len(alive)} worker(s) outlived their parent"
