"""The Deep ReLU Simplex: layer-wise L1 loss minimisation by vertex walking, and LAD.

>>> from lpengine.simplex import deep_relu_simplex, DRSResult, lad
"""

from __future__ import annotations

from .certificate import DRSCertificate
from .drs import DRSResult, DRSState, deep_relu_simplex, minimize_output
from .lad import LADResult, lad

__all__ = ["deep_relu_simplex", "minimize_output", "DRSResult", "DRSState", "DRSCertificate", "lad", "LADResult"]
