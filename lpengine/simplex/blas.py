"""One BLAS thread while the Deep ReLU Simplex walks (a scoped limit, restored on exit).

Every product of the walk is tall and skinny: ``(pairs or samples) x width`` times ``width x width``
with a width of a few units.  Multi-threaded OpenBLAS splits such products across threads that
synchronise by spinning; on a host with more runnable processes than cores the spinning thread waits
for a descheduled sibling.  Measured on the project's 2-core host at load ~7: a ``160,000 x 5`` by
``5 x 4`` product cost 33 ms of CPU with two threads against 1.5 ms with one; a walk pivot at
N = 50,000 cost 115 ms against 30 ms.  With one thread nothing is lost on an idle host (the products
are memory bound).  scikit-learn limits BLAS the same way inside its k-means iterations.

The limit applies to the whole process while the walk runs (``threadpoolctl`` cannot limit one
thread only); other threads calling BLAS meanwhile run single-threaded too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["single_thread_blas"]


@contextmanager
def single_thread_blas() -> Iterator[None]:
    """Limit the BLAS libraries loaded by numpy/scipy to one thread inside the ``with`` block."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield
