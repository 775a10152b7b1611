"""JSON-ready views of the analysis results (``to_dict``): Python scalars and lists only."""

from __future__ import annotations

import enum
import math
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np

__all__: list[str] = []


def jsonable(value: Any) -> Any:
    """``value`` with arrays as (nested) lists, numpy scalars as Python ones, ``inf``/``nan`` as ``None``."""
    if is_dataclass(value) and not isinstance(value, type):
        return fields_dict(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def fields_dict(obj: Any) -> dict[str, Any]:
    """Every field of the dataclass ``obj`` that shows in its repr, as :func:`jsonable`."""
    return {f.name: jsonable(getattr(obj, f.name)) for f in fields(obj) if f.repr}
