"""The Examples sections of lpengine.sequential run as doctests."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["hypotheses", "protocol", "pattern_lp", "cells", "consistency", "reference", "refinement", "experiments"]


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name: str) -> None:
    module = importlib.import_module(f"lpengine.sequential.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
