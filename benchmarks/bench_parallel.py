"""Local work sharing: serial vs ``n_jobs=2``, side by side, in wall time and in CPU time per process.

    python benchmarks/bench_parallel.py                # the long nets, 3 interleaved rounds (a few minutes)
    python benchmarks/bench_parallel.py --quick        # smaller versions of the same nets (under a minute)
    python benchmarks/bench_parallel.py --repeat 5     # more rounds (the medians settle)
    python benchmarks/bench_parallel.py --pair         # plus the contention control (two serial runs at once)
    python benchmarks/bench_parallel.py --scan         # the 1-D exact scan instead: serial vs n_jobs=2 (chunks)

Run it on an idle machine for the wall-time speed-up (``uptime`` first: a load average near 0).  On a loaded
machine the wall times measure the contention; the CPU columns still say what the design costs:

* ``serial CPU``: CPU seconds of the serial enumeration (user + system).
* ``master CPU`` / ``worker CPU``: CPU seconds of the calling process (which processes regions itself) and of
  the worker process, in the ``n_jobs=2`` run.
* ``merge``: the part of the master's CPU spent receiving and merging the worker's replies (unpickling, and
  taking its regions into the result, which the serial run does too).
* ``conserv.``: (master + worker CPU) / serial CPU, the work-conservation ratio.  Two processes can reach at
  most ``2 / conserv.`` times the serial speed, and only if neither ever waits for the other.
* ``idle M/W``: wall seconds the master spent blocked waiting for a reply / the worker spent waiting for a batch
  (on a loaded machine mostly the other process being descheduled).
* ``CPU bound``: serial CPU / max(master CPU, worker CPU), the wall speed-up on an otherwise idle 2-core machine
  if the waiting vanished with the load; ``wall x``: the measured wall speed-up.
* ``reg/CPU-s``: regions per CPU second of region work, serial / master / worker (the master's excludes its
  merging of the worker's results).
* ``B/reg``: pickled bytes per region the worker sent back.

Each row is the median over the rounds; in a round the serial and the 2-process run alternate, so a noisy
spell hits both.  Counts and the sets of patterns are checked equal in every round.  With ``--pair`` a third
run per round does two independent serial enumerations at once (one in a forked process) and reports their
CPU seconds against the serial run's: above 1, two busy processes slow each other down on this machine
(shared caches, a hypervisor), which no work sharing can avoid.

With ``--scan`` the rows are one-input nets counted by the exact line walk (``method="scan"``), serial against
``n_jobs=2`` (the line cut into chunks, :mod:`lpengine.regions.scan_parallel`): wall seconds, CPU seconds of
all processes (the forked worker's included, as a reaped child), the work conservation and the results
checked equal region by region (patterns, witnesses, edges, in the same order).

The figures come from :class:`lpengine.regions.workstats.WorkSharingStats`, which the work sharing logs at
INFO at the end of every search (the log record's ``work_sharing`` attribute).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lpengine import ReLUNetwork
from lpengine.regions import enumerate_regions
from lpengine.regions.workstats import WorkSharingStats

# (label, n_in, widths, seed, domain keywords, max_regions): the long nets of issue 15 (about 7-20 s serial
# each on an idle core).  The deep R^4 net is capped (its full count has 84,593 regions).
NETS = [
    ("4->[16,16] box [-5,5]", 4, [16, 16], 5, {"box": (-5, 5)}, None),  # 15,180 regions
    ("5->[10,10,10] box [-4,4]", 5, [10, 10, 10], 12, {"box": (-4, 4)}, None),  # 28,996 regions
    ("4->[9,9,8,8]->1 R^4", 4, [9, 9, 8, 8], 0, {"whole_space": True}, 10_000),
]
QUICK = [
    ("4->[16,16] box [-1.5,1.5]", 4, [16, 16], 5, {"box": (-1.5, 1.5)}, None),  # 6,027 regions
    ("5->[10,10,10] box [-2,2]", 5, [10, 10, 10], 12, {"box": (-2, 2)}, None),  # 9,248 regions
    ("4->[9,9,8,8]->1 R^4", 4, [9, 9, 8, 8], 0, {"whole_space": True}, 3_000),
]


class _Catch(logging.Handler):
    """Keeps the work-sharing statistics the search logs at its end."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.last: WorkSharingStats | None = None

    def emit(self, record: logging.LogRecord) -> None:
        ws = getattr(record, "work_sharing", None)
        if isinstance(ws, WorkSharingStats):
            self.last = ws


@dataclass
class _Round:
    serial_wall: float
    serial_cpu: float
    wall: float
    master_cpu: float
    master_merge: float
    worker_cpu: float
    wait: float
    idle: float
    serial_rate: float
    master_rate: float
    worker_rate: float
    bytes_per_region: float
    load: float
    pair: float | None


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    w, c = time.perf_counter(), _cpu()
    res = fn()
    return time.perf_counter() - w, _cpu() - c, res


def _pair_cpu(run: Callable[[], Any]) -> float:
    """Mean CPU seconds of two serial runs made at the same time (one in a forked process)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one run, its CPU seconds back through the pipe
        c = _cpu()
        run()
        os.write(w, repr(_cpu() - c).encode())
        os._exit(0)
    os.close(w)
    c = _cpu()
    run()
    mine = _cpu() - c
    os.waitpid(pid, 0)
    with os.fdopen(r) as f:
        theirs = float(f.read())
    return (mine + theirs) / 2


def one_round(net: ReLUNetwork, kw: dict[str, Any], cap: int | None, catch: _Catch, pair: bool) -> _Round:
    """One serial run, then one ``n_jobs=2`` run (then the pair control): their figures."""
    sw, sc, ser = _timed(lambda: enumerate_regions(net, max_regions=cap, **kw))
    catch.last = None
    pw, _, par = _timed(lambda: enumerate_regions(net, max_regions=cap, n_jobs=2, **kw))
    ws = catch.last
    if ws is None or par.processes != 2 or not ws.workers:
        raise RuntimeError("the n_jobs=2 run did not report a worker (too small a net, or a lost worker)")
    if ser.count != par.count:
        raise AssertionError(f"counts differ: serial {ser.count}, n_jobs=2 {par.count}")
    if cap is None and {r.pattern.key for r in ser.regions} != {r.pattern.key for r in par.regions}:
        raise AssertionError("the sets of patterns differ")
    wk = ws.workers[0]
    pair_ratio = None
    if pair:
        pair_ratio = _pair_cpu(lambda: enumerate_regions(net, max_regions=cap, **kw)) / sc
    return _Round(
        sw,
        sc,
        pw,
        ws.master_cpu,
        ws.merge_s,
        wk.cpu,
        ws.wait_s,
        wk.idle,
        ser.count / sc,
        ws.own_n / ws.own_s if ws.own_s > 0 else float("nan"),
        wk.regions / wk.busy if wk.busy > 0 else float("nan"),
        wk.bytes_out / max(wk.regions, 1),
        os.getloadavg()[0],
        pair_ratio,
    )


# One-input nets for --scan: the walk's cost per region grows with the width (an exact integer composition).
SCAN_NETS = [
    ("1->[20,20] box [-4,4]", [20, 20], 4, {"box": (-4, 4)}),
    ("1->[64,64,64] box [-3,3]", [64, 64, 64], 0, {"box": (-3, 3)}),
    ("1->[128,128] R", [128, 128], 0, {"whole_space": True}),
]


def _all_cpu() -> float:
    """CPU seconds of this process and of its reaped children (the scan's forked worker)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def scan_table(repeat: int) -> None:
    """Serial vs ``n_jobs=2`` exact 1-D scans, interleaved, medians (see the module docstring)."""
    print(f"load average at the start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; medians of {repeat}")
    hdr = (
        f"{'network':<26}{'regions':>8}{'chunks':>7}{'serial s':>9}{'2p s':>7}{'wall x':>7}"
        f"{'serial CPU':>11}{'2p CPU':>8}{'conserv.':>9}{'ms/region':>10}{'load':>6}"
    )
    print(hdr)
    print("-" * len(hdr))
    for label, widths, seed, kw in SCAN_NETS:
        net = ReLUNetwork.random(1, widths, seed=seed)
        rows = []
        for _ in range(repeat):
            w0, c0 = time.perf_counter(), _all_cpu()
            ser = enumerate_regions(net, **kw)
            w1, c1 = time.perf_counter(), _all_cpu()
            par = enumerate_regions(net, n_jobs=2, **kw)
            w2, c2 = time.perf_counter(), _all_cpu()
            same = [(str(r.pattern), r.witness.tolist()) for r in ser.regions] == [
                (str(r.pattern), r.witness.tolist()) for r in par.regions
            ]
            if not same or sorted(ser.edges) != sorted(par.edges):
                raise AssertionError(f"{label}: the parallel scan differs from the serial one")
            rows.append((w1 - w0, w2 - w1, c1 - c0, c2 - c1, par.decisions["scan_chunks"], par.processes))
        med = [statistics.median(r[i] for r in rows) for i in range(4)]
        print(
            f"{label:<26}{ser.count:>8,d}{rows[0][4]:>7d}{med[0]:>9.2f}{med[1]:>7.2f}"
            f"{statistics.median(r[0] / r[1] for r in rows):>7.2f}{med[2]:>11.2f}{med[3]:>8.2f}"
            f"{statistics.median(r[3] / r[2] for r in rows):>9.3f}{1e3 * med[2] / ser.count:>10.1f}"
            f"{os.getloadavg()[0]:>6.1f}",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller versions of the nets")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved rounds per net (default 3; medians shown)")
    ap.add_argument("--pair", action="store_true", help="also run two serial enumerations at once (contention)")
    ap.add_argument("--scan", action="store_true", help="the 1-D exact scan: serial vs n_jobs=2")
    args = ap.parse_args()
    if args.scan:
        scan_table(args.repeat)
        return
    warnings.simplefilter("ignore")  # a capped run warns that it is incomplete, as it should
    catch = _Catch()
    log = logging.getLogger("lpengine.regions.parallel")
    log.setLevel(logging.INFO)
    log.addHandler(catch)
    enumerate_regions(ReLUNetwork.random(2, [8, 8], seed=0), box=(-2, 2), n_jobs=2)  # warm-up: imports, fork
    print(f"load average at the start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; medians of {args.repeat}")
    hdr = (
        f"{'network':<26}{'regions':>8}{'serial s':>9}{'2p s':>7}{'wall x':>7}{'serial CPU':>11}"
        f"{'master CPU':>11}{'merge':>6}{'worker CPU':>11}{'conserv.':>9}{'CPU bound':>10}{'idle M/W s':>12}"
        f"{'reg/CPU-s ser/M/W':>19}{'B/reg':>7}{'load':>6}" + (f"{'pair CPU':>9}" if args.pair else "")
    )
    print(hdr)
    print("-" * len(hdr))
    for label, n_in, widths, seed, kw, cap in QUICK if args.quick else NETS:
        net = ReLUNetwork.random(n_in, widths, seed=seed)
        rounds = [one_round(net, kw, cap, catch, args.pair) for _ in range(args.repeat)]

        def med(f: Callable[[_Round], float], rounds: list[_Round] = rounds) -> float:
            return statistics.median(f(r) for r in rounds)

        count = enumerate_regions(net, max_regions=cap, keep_regions=False, **kw).count
        rates = f"{med(lambda r: r.serial_rate):,.0f}/{med(lambda r: r.master_rate):,.0f}/{med(lambda r: r.worker_rate):,.0f}"
        line = (
            f"{label:<26}{count:>8,d}{med(lambda r: r.serial_wall):>9.2f}{med(lambda r: r.wall):>7.2f}"
            f"{med(lambda r: r.serial_wall / r.wall):>7.2f}{med(lambda r: r.serial_cpu):>11.2f}"
            f"{med(lambda r: r.master_cpu):>11.2f}{med(lambda r: r.master_merge):>6.2f}{med(lambda r: r.worker_cpu):>11.2f}"
            f"{med(lambda r: (r.master_cpu + r.worker_cpu) / r.serial_cpu):>9.3f}"
            f"{med(lambda r: r.serial_cpu / max(r.master_cpu, r.worker_cpu)):>10.2f}"
            f"{med(lambda r: r.wait):>6.2f}/{med(lambda r: r.idle):<5.2f}{rates:>19}"
            f"{med(lambda r: r.bytes_per_region):>7.0f}{med(lambda r: r.load):>6.1f}"
        )
        if args.pair:
            line += f"{med(lambda r: r.pair or float('nan')):>9.2f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
