"""The standard LPs of tests/common/lp_checks.py on every backend, each answer also proved in exact arithmetic."""

from __future__ import annotations

import pytest

from lpengine.lp import LPStatus, available_backends, open_solver, solve
from lpengine.lp.exact import ExactStatus, solve_exact, verify_basis
from tests.common.lp_checks import STANDARD_LPS, StandardLP, assert_standard_answer

cases = pytest.mark.parametrize("case", STANDARD_LPS, ids=[c.name for c in STANDARD_LPS])
OPTIMAL = [c for c in STANDARD_LPS if c.status is LPStatus.OPTIMAL]


@cases
@pytest.mark.parametrize("backend", available_backends())
def test_backend_solves_the_standard_lp(backend: str, case: StandardLP) -> None:
    assert_standard_answer(case, solve(case.lp, backend=backend))


@cases
def test_exact_solve_agrees_with_the_hand_derivation(case: StandardLP) -> None:
    sol = solve_exact(case.lp)
    assert sol.status.value == case.status.value
    if case.status is LPStatus.OPTIMAL:
        assert sol.status is ExactStatus.OPTIMAL and sol.check.objective == case.objective
        if case.x is not None:
            assert sol.check.x.to_fractions() == case.x


@pytest.mark.parametrize("case", OPTIMAL, ids=[c.name for c in OPTIMAL])
def test_highs_optimal_basis_is_exactly_optimal(case: StandardLP) -> None:
    with open_solver(case.lp) as s:
        s.solve()
        basis = s.get_basis()
    chk = verify_basis(case.lp, basis)
    assert chk.optimal, chk.message
    assert chk.objective == case.objective
