"""The owner-partitioned search on a real Dask cluster equals the serial search, with any number of partitions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

from lpengine import ReLUNetwork
from lpengine.exceptions import CheckpointError
from lpengine.regions import enumerate_regions
from lpengine.regions.distributed import Traffic, distributed_search

distributed = pytest.importorskip("distributed")


def _patterns(res):
    return sorted(str(r.pattern) for r in res.regions)


def _edges(res):
    pat = [str(r.pattern) for r in res.regions]
    return {frozenset((pat[i], pat[j])) for i, j, _ in res.edges}


def _flags(res):
    return sorted((str(r.pattern), r.bounded, r.thin) for r in res.regions)


def _same_as_serial(dist, serial) -> None:
    assert dist.complete and dist.count == serial.count
    assert _patterns(dist) == _patterns(serial)
    assert _edges(dist) == _edges(serial)
    assert _flags(dist) == _flags(serial)
    assert dist.thin_patterns == serial.thin_patterns and dist.layer_stats == serial.layer_stats


def thin_slab_net() -> ReLUNetwork:
    # x1 = 0, x1 = 5e-8, x1 = 0.8 and x2 = 0 cut [-1, 1]^2 into 4 x 2 = 8 regions, 2 of them in the thin slab.
    W = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    return ReLUNetwork((W,), (np.array([0.0, -5e-8, -0.8, 0.0]),), has_output_layer=False)


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.mark.parametrize(
    "n_in, widths, seed, domain",
    [(2, [10, 10], 0, {"box": (-1, 1)}), (3, [6, 6], 4, {"whole_space": True}), (1, [6, 6], 2, {"box": (-3, 3)})],
)
def test_local_cluster_equals_serial(client, n_in, widths, seed, domain):
    net = ReLUNetwork.random(n_in, widths, seed=seed)
    if n_in == 1:
        # A 1-D net is counted by the exact line walk, its chunks as Dask tasks: the serial walk's result,
        # in the same order.  Then the LP method, owner-partitioned like any other.
        scan, scan_serial = enumerate_regions(net, client=client, **domain), enumerate_regions(net, **domain)
        assert scan.decisions["scan_chunks"] > 1 and scan.processes >= 1
        assert [(str(r.pattern), r.witness.tolist()) for r in scan.regions] == [
            (str(r.pattern), r.witness.tolist()) for r in scan_serial.regions
        ]
        assert sorted(scan.edges) == sorted(scan_serial.edges)
        domain = {**domain, "method": "lp"}
    serial = enumerate_regions(net, **domain)
    dist = enumerate_regions(net, client=client, **domain)
    _same_as_serial(dist, serial)
    assert dist.processes == 2  # both worker processes did region work (the driver does none)


@pytest.mark.parametrize("partitions", [1, 5])
def test_any_number_of_partitions_gives_the_serial_result(client, partitions):
    net = ReLUNetwork.random(2, [8, 8], seed=5)
    serial = enumerate_regions(net, whole_space=True)
    _same_as_serial(enumerate_regions(net, whole_space=True, client=client, partitions=partitions), serial)


def test_thin_regions_are_flagged_as_serially(client):
    res = enumerate_regions(thin_slab_net(), box=(-1, 1), client=client, partitions=3)
    assert res.complete and res.count == 8 and len(res.thin_patterns) == 2
    _same_as_serial(res, enumerate_regions(thin_slab_net(), box=(-1, 1)))


def test_streamed_search_holds_no_region_and_its_shards_hold_each_once(client, tmp_path):
    net = ReLUNetwork.random(3, [8, 8], seed=4)
    kept = enumerate_regions(net, whole_space=True)
    res = enumerate_regions(net, whole_space=True, client=client, keep_regions=False, shards_dir=tmp_path)
    assert res.complete and res.count == kept.count and res.regions == () and res.edges == ()
    assert res.n_bounded == kept.n_bounded and res.layer_stats == kept.layer_stats
    assert res.thin_patterns == kept.thin_patterns
    files = sorted(tmp_path.glob("regions-p*.npz"))
    assert len(files) == res.streamed["shards"] == 2  # one per partition (each holds fewer than 10,000)
    rows = []
    for f in files:
        with np.load(f, allow_pickle=False) as z:
            rows += [s.tobytes() for s in z["signs"]]
    assert len(rows) == len(set(rows)) == kept.count
    assert set(rows) == {r.pattern.signs.astype(np.int8).tobytes() for r in kept.regions}


def test_budget_stops_at_max_regions_and_resume_completes(client, tmp_path):
    net = ReLUNetwork.random(3, [10, 10], seed=3)
    serial = enumerate_regions(net)
    path = tmp_path / "ck.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        part = enumerate_regions(net, client=client, max_regions=50, checkpoint=path)
        streamed = enumerate_regions(net, client=client, max_regions=45, keep_regions=False)
    assert not part.complete and part.count == 50
    assert not streamed.complete and streamed.count == 45  # the per-round caps never overshoot
    res = enumerate_regions(net, client=client, resume=path, partitions=3)
    assert res.complete and _patterns(res) == _patterns(serial) and _edges(res) == _edges(serial)


def test_streamed_checkpoint_holds_statistics_and_resumes_exactly(client, tmp_path):
    # keep_regions=False on Dask: the checkpoint holds the frontier, the seen set, the summed statistics and
    # the distinct layer prefixes (no region); a resume with another number of partitions completes it.
    net = ReLUNetwork.random(3, [8, 7, 6], seed=2)
    kept = enumerate_regions(net, whole_space=True)
    path = tmp_path / "ck.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        part = enumerate_regions(
            net, whole_space=True, client=client, keep_regions=False, max_regions=60, checkpoint=path
        )
    assert not part.complete and part.count == 60
    with np.load(path, allow_pickle=False) as z:
        assert z["w_signs"].shape[0] == 0 and int(z["s_active_sum"].sum()) > 0  # statistics, no region
    res = enumerate_regions(net, whole_space=True, client=client, keep_regions=False, resume=path, partitions=3)
    assert res.complete and res.count == kept.count and res.n_bounded == kept.n_bounded
    assert res.layer_stats == kept.layer_stats and res.thin_patterns == kept.thin_patterns
    with pytest.raises(CheckpointError, match="statistics only"):
        enumerate_regions(net, whole_space=True, client=client, resume=path)
    # The same file resumes serially too (one format for every mode), to the same statistics.
    serial = enumerate_regions(net, whole_space=True, keep_regions=False, resume=path)
    assert serial.complete and serial.count == kept.count and serial.layer_stats == kept.layer_stats
    assert serial.n_bounded == kept.n_bounded and serial.thin_patterns == kept.thin_patterns
    with pytest.raises(CheckpointError, match="written without shards_dir"):
        enumerate_regions(
            net, whole_space=True, client=client, keep_regions=False, resume=path, shards_dir=tmp_path / "s"
        )


def test_shards_of_an_interrupted_dask_run_resumed_on_more_partitions_hold_every_region_once(
    client, tmp_path, monkeypatch
):
    # As tests/regions/test_stream.py's serial case: a run with 2 partitions stops with a checkpoint, a
    # resume on 3 partitions writes more shards and "dies" (its checkpoint lost, its shards kept), and the
    # final resume on 3 partitions leaves every pattern in exactly one shard row.
    import lpengine.regions.stream as stream

    monkeypatch.setattr(stream, "SHARD_SIZE", 37)  # the driver passes it to the partitions
    net = ReLUNetwork.random(3, [10, 10], seed=3)
    kept = enumerate_regions(net, whole_space=True)
    want = {r.pattern.signs.astype(np.int8).tobytes() for r in kept.regions}
    ck, old, sh = tmp_path / "ck.npz", tmp_path / "old.npz", tmp_path / "shards"
    kw = {"whole_space": True, "client": client, "keep_regions": False, "shards_dir": sh}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert enumerate_regions(net, checkpoint=ck, max_regions=100, **kw).count == 100
        shutil.copy(ck, old)
        assert enumerate_regions(net, resume=ck, max_regions=230, partitions=3, **kw).count == 230
    shutil.copy(old, ck)
    res = enumerate_regions(net, resume=ck, partitions=3, **kw)
    rows = []
    for f in sorted(sh.glob("regions-*.npz")):
        with np.load(f, allow_pickle=False) as z:
            rows += [r.tobytes() for r in z["signs"]]
    assert res.complete and res.count == kept.count == len(rows) and set(rows) == want
    assert res.streamed["shards"] == len(list(sh.glob("regions-*.npz")))
    # The same checkpoint resumes serially too, into the same folder, to the same rows.
    shutil.copy(old, ck)
    ser = enumerate_regions(net, whole_space=True, keep_regions=False, shards_dir=sh, resume=ck)
    rows = []
    for f in sorted(sh.glob("regions-*.npz")):
        with np.load(f, allow_pickle=False) as z:
            rows += [r.tobytes() for r in z["signs"]]
    assert ser.complete and len(rows) == kept.count and set(rows) == want


def test_traffic_is_the_packed_candidates(client):
    # Each candidate sent is ceil(N/8) bytes of bits plus 3 d float64 hints; kept regions send no prefixes.
    from lpengine.regions.budget import Budget
    from lpengine.regions.domain import make_domain
    from lpengine.regions.search import start_point
    from lpengine.tolerances import resolve_tolerances

    net = ReLUNetwork.random(3, [9, 8], seed=1)
    tol = resolve_tolerances(None)
    dom = make_domain(3, None, box=(-1, 1), tol=tol)
    tr = Traffic()
    out = distributed_search(
        net,
        dom,
        tol,
        client=client,
        method="vertex",
        start=start_point(net, dom, tol, 0),
        budget=Budget(None, None, None, time.perf_counter()),
        compute_bounded=False,
        partitions=4,
        traffic=tr,
    )
    n = len(out.collector.regions)
    assert n == enumerate_regions(net).count and tr.partitions == 4
    assert tr.candidates_sent > 0 and tr.prefixes_sent == 0
    assert tr.bytes_sent == tr.candidates_sent * (3 + 24 * 3)  # N = 17 units -> 3 bytes
    assert tr.messages <= tr.rounds * 4 * 3  # at most one message per ordered pair of partitions per round
    # W round tasks, 2 W getitems (state, report), W (W - 1) routed outboxes per submitted round.
    assert tr.tasks % 24 == 0 and tr.tasks >= tr.rounds * 24


def test_partitions_needs_a_client():
    with pytest.raises(ValueError, match="partitions= goes with client="):
        enumerate_regions(ReLUNetwork.random(2, [3], seed=0), partitions=2)


@pytest.mark.slow
def test_dask_scheduler_and_worker_processes_from_the_command_line(tmp_path):
    dask_cli = shutil.which("dask")
    if dask_cli is None:
        pytest.skip("the dask command is not on PATH")
    net = ReLUNetwork.random(3, [12, 12], seed=5)
    net_file = tmp_path / "net.npz"
    net.save(net_file)
    serial = enumerate_regions(net)
    port = 8786 + (int(time.time()) % 1000)
    address = f"tcp://127.0.0.1:{port}"
    sched = subprocess.Popen(
        [dask_cli, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers = [
        subprocess.Popen(
            [dask_cli, "worker", address, "--nthreads", "1", "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        with distributed.Client(address, timeout=60) as c:
            c.wait_for_workers(2, timeout=60)
        base = [sys.executable, "-m", "lpengine", "count", "--net", str(net_file), "--scheduler", address, "--json"]
        for extra in ([], ["--partitions", "5", "--no-keep-regions"]):
            out = subprocess.run([*base, *extra], capture_output=True, text=True, timeout=600)
            env = json.loads(out.stdout)
            assert env["status"] == "ok", out.stderr
            assert env["result"]["count_lower"] == env["result"]["count_upper"] == serial.count
            assert env["result"]["processes"] == 2  # the two `dask worker` processes (the driver does none)
            assert env["result"]["layer_stats"] == [dict(s) for s in serial.layer_stats]
    finally:
        for p in (*workers, sched):
            p.terminate()
        for p in (*workers, sched):
            p.wait(timeout=30)


@pytest.mark.slow
def test_a_worker_lost_mid_run_costs_only_time():
    psutil = pytest.importorskip("psutil")
    net = ReLUNetwork.random(4, [12, 12], seed=7)
    serial = enumerate_regions(net)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        pids = list(c.run(os.getpid).values())
        killed: list[int] = []

        def kill_once(state) -> None:
            # Between two rounds, once a tenth of the regions are in: kill a worker process (its nanny
            # starts a new one); the partitions' states it held are recomputed from their lineage.
            if not killed and state.regions > serial.count // 10:
                psutil.Process(pids[0]).kill()
                killed.append(state.regions)

        res = enumerate_regions(net, client=c, callback=kill_once)
    assert killed and killed[0] < serial.count  # the kill happened mid-run
    assert res.complete and res.count == serial.count
    assert _patterns(res) == _patterns(serial) and _edges(res) == _edges(serial)
