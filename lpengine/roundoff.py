"""Facts of IEEE double precision used by the rounding-error bounds.

These are not tolerances (those live in :mod:`lpengine.tolerances`): they are
properties of float64 arithmetic, used by the modules that prove a float answer
correct by bounding its rounding error (Higham, *Accuracy and Stability of
Numerical Algorithms*, 2nd ed., §2.2 and §3.1).

Examples
--------
>>> UNIT_ROUNDOFF == 2.0**-53
True
>>> gamma(1) > UNIT_ROUNDOFF
True
"""

from __future__ import annotations

__all__ = ["UNIT_ROUNDOFF", "gamma"]

#: Unit roundoff ``u`` of float64 (round to nearest): ``fl(x op y) = (x op y)(1 + d)``, ``|d| <= u``.
UNIT_ROUNDOFF = 2.0**-53


def gamma(n: int) -> float:
    """The factor ``gamma_n = n u / (1 - n u)`` of Higham's rounding-error bounds.

    A float dot product of length ``n`` errs by at most ``gamma_n`` times ``|a|^T |b|``.

    Parameters
    ----------
    n : int
        Number of rounded operations in the chain (the length of the dot product).

    Returns
    -------
    float
        The bound factor; valid while ``n u < 1``.
    """
    return n * UNIT_ROUNDOFF / (1.0 - n * UNIT_ROUNDOFF)
