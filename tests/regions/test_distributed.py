"""The region search on a real Dask cluster equals the serial search."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import warnings

import pytest

from lpengine import ReLUNetwork
from lpengine.regions import enumerate_regions

distributed = pytest.importorskip("distributed")


def _patterns(res):
    return sorted(str(r.pattern) for r in res.regions)


def _edges(res):
    pat = [str(r.pattern) for r in res.regions]
    return {frozenset((pat[i], pat[j])) for i, j, _ in res.edges}


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
    [(2, [12, 12], 0, {"box": (-1, 1)}), (3, [8, 8], 4, {"whole_space": True}), (1, [6, 6], 2, {"box": (-3, 3)})],
)
def test_local_cluster_equals_serial(client, n_in, widths, seed, domain):
    net = ReLUNetwork.random(n_in, widths, seed=seed)
    if n_in == 1:
        # A 1-D net is counted by the exact line walk in the calling process; the LP method goes to Dask.
        assert enumerate_regions(net, client=client, **domain).processes == 1
        domain = {**domain, "method": "lp"}
    serial = enumerate_regions(net, **domain)
    dist = enumerate_regions(net, client=client, **domain)
    assert dist.complete and dist.count == serial.count
    assert _patterns(dist) == _patterns(serial)
    assert _edges(dist) == _edges(serial)
    assert [r.bounded for r in sorted(dist.regions, key=lambda r: str(r.pattern))] == [
        r.bounded for r in sorted(serial.regions, key=lambda r: str(r.pattern))
    ]
    assert dist.processes == 3  # the driver and two workers


def test_local_cluster_budget_and_resume(client, tmp_path):
    net = ReLUNetwork.random(3, [10, 10], seed=3)
    serial = enumerate_regions(net)
    path = tmp_path / "ck.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        part = enumerate_regions(net, client=client, max_regions=50, checkpoint=path)
    assert not part.complete and part.count == 50
    res = enumerate_regions(net, client=client, resume=path)
    assert res.complete and _patterns(res) == _patterns(serial) and _edges(res) == _edges(serial)


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
        out = subprocess.run(
            [sys.executable, "-m", "lpengine", "count", "--net", str(net_file), "--scheduler", address, "--json"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        env = json.loads(out.stdout)
        assert env["status"] == "ok", out.stderr
        assert env["result"]["count_lower"] == env["result"]["count_upper"] == serial.count
        assert env["result"]["processes"] == 3
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
        pids = list(c.run(lambda: __import__("os").getpid()).values())
        import threading

        def kill_one() -> None:
            time.sleep(1.0)
            psutil.Process(pids[0]).kill()

        threading.Thread(target=kill_one, daemon=True).start()
        res = enumerate_regions(net, client=c)
    assert res.complete and res.count == serial.count
    assert _patterns(res) == _patterns(serial) and _edges(res) == _edges(serial)
