"""Exact rational arithmetic for the LP layer: decisions that floats cannot settle.

Every float64 input is read as the exact rational it stores.  The tools here are
meant for *borderline* decisions only: callers decide in floating point first
and call in when a float value is within its error bound of a threshold.

* :mod:`.rational` - float arrays as dyadic integers; exact signs of affine forms
  at rational points; exact proportionality of two rows.
* :mod:`.interior` - does ``{x : G x < h}`` have interior?  Answered with a checked
  certificate: an interior point, or a Farkas/Motzkin vector.
* :mod:`.cone` - is a polyhedron bounded?  Answered with checked multipliers
  (Stiemke) or a recession direction.
* :mod:`.lpcheck` - exact optimality check of an LP solution, and of the basic
  solution of a simplex basis (HiGHS's).
* :mod:`.simplex` - a small exact simplex (Bland's rule), the fallback when a
  float basis does not verify.

Library: python-flint (FLINT's ``fmpq``/``fmpq_mat``) for rational linear
algebra, Python integers for dyadic sign tests.  Measured on this machine
(5 x 5 solve from float data, conversions included): flint 33 us, gmpy2 ``mpq``
Gaussian elimination 158 us, ``fractions.Fraction`` 746 us; 40 x 4 exact
matrix-vector product: flint 128 us, ``Fraction`` 995 us (see
``benchmarks/bench_exact.py``).  Signs at float points are first settled by a
rigorous floating-point error bound (:func:`float_sign_filter`); only rows
within their bound are evaluated in integers.
"""

from .cone import BoundednessCertificate, decide_bounded, direction_near
from .interior import (
    IntegerRows,
    InteriorCertificate,
    check_farkas,
    check_interior_point,
    decide_interior,
    integer_rows,
    with_box,
)
from .lpcheck import ExactLPCheck, check_lp_optimum, verify_basis
from .rational import (
    DyadicArray,
    RationalVector,
    affine_signs,
    float_sign_filter,
    proportionality,
    to_dyadic,
    to_fractions,
)
from .simplex import ExactLPSolution, ExactStatus, StandardFormSolution, solve_exact, solve_standard_form

__all__ = [
    "DyadicArray",
    "RationalVector",
    "to_dyadic",
    "to_fractions",
    "affine_signs",
    "float_sign_filter",
    "proportionality",
    "InteriorCertificate",
    "IntegerRows",
    "integer_rows",
    "check_interior_point",
    "check_farkas",
    "decide_interior",
    "with_box",
    "BoundednessCertificate",
    "decide_bounded",
    "direction_near",
    "ExactLPCheck",
    "check_lp_optimum",
    "verify_basis",
    "ExactStatus",
    "StandardFormSolution",
    "ExactLPSolution",
    "solve_exact",
    "solve_standard_form",
]
