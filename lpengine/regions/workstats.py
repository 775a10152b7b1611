"""What the work sharing spent: each worker's account, and the whole search's.

:func:`~.parallel.parallel_search` fills a :class:`WorkSharingStats` while it
runs and logs it at INFO at the end (the log record's ``work_sharing``
attribute); ``benchmarks/bench_parallel.py`` prints it side by side with the
serial search.  CPU seconds survive a loaded machine (they do not count the
time a process waits for a core); wall seconds of waiting do not (a process
descheduled makes the other wait).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["WorkerDone", "WorkSharingStats"]


@dataclass(frozen=True)
class WorkerDone:
    """A worker's acknowledgement of the stop message, with what it spent.

    Attributes
    ----------
    cpu : float
        The worker process's user + system CPU seconds, start-up included.
    busy : float
        CPU seconds of its thread spent on batches (unpickling, the regions, pickling the reply).
    idle : float
        Wall seconds spent waiting for a batch (``idle_first`` of them before the first one).
    regions, batches : int
        Pending regions processed, and in how many batches.
    bytes_in, bytes_out : int
        Pickled size of the messages received and sent.
    """

    cpu: float = 0.0
    busy: float = 0.0
    idle: float = 0.0
    idle_first: float = 0.0
    regions: int = 0
    batches: int = 0
    bytes_in: int = 0
    bytes_out: int = 0


@dataclass
class WorkSharingStats:
    """Where the time of one work-sharing search went.

    :func:`parallel_search` logs it at INFO at the end, as the log record's
    ``work_sharing`` attribute (``benchmarks/bench_parallel.py`` reads it
    there).  CPU seconds are those of the master's thread, which does all of
    its work; waiting is wall time.

    Attributes
    ----------
    own_s, own_n : float, int
        CPU seconds the master spent processing regions itself, and how many.
    merge_s : float
        CPU seconds spent receiving, unpickling and merging the workers' replies
        (their regions into the result, their new neighbours into the queue).
    send_s : float
        CPU seconds spent packing and sending batches.
    wait_s : float
        Wall seconds blocked waiting for a reply (nothing left to do meanwhile).
    master_cpu : float
        The master process's user + system CPU seconds during the search.
    wall : float
        Wall seconds of the search.
    started : float
        Wall seconds until the workers were started (``nan`` if they never were).
    bytes_out, bytes_in : int
        Pickled size of the messages sent to and received from the workers.
    workers : list of WorkerDone
        Each worker's own account (workers lost mid-run are missing).
    """

    own_s: float = 0.0
    own_n: int = 0
    merge_s: float = 0.0
    send_s: float = 0.0
    wait_s: float = 0.0
    master_cpu: float = 0.0
    wall: float = 0.0
    started: float = float("nan")
    bytes_out: int = 0
    bytes_in: int = 0
    workers: list[WorkerDone] = field(default_factory=list)

    def summary(self) -> str:
        """One line: the master's split, then each worker's CPU, busy and idle seconds."""
        parts = [
            f"wall {self.wall:.2f} s, master CPU {self.master_cpu:.2f} s (own {self.own_n} regions "
            f"{self.own_s:.2f} s, merge {self.merge_s:.2f} s, send {self.send_s:.2f} s), master waiting "
            f"{self.wait_s:.2f} s, workers started at {self.started:.2f} s"
        ]
        for i, w in enumerate(self.workers):
            parts.append(
                f"worker {i}: CPU {w.cpu:.2f} s, busy {w.busy:.2f} s, idle {w.idle:.2f} s (first batch after "
                f"{w.idle_first:.3f} s), {w.regions} regions in {w.batches} batches, "
                f"{w.bytes_out / max(w.regions, 1):.0f} B/region back"
            )
        return "; ".join(parts)
