"""Domain construction: the Domain type, the keyword shorthand, and their errors."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from lpengine import DEFAULT_TOLERANCES, InvalidDomainError, ReLUNetwork
from lpengine.regions import Domain, count_regions, enumerate_regions
from lpengine.regions.domain import make_domain

TOL = DEFAULT_TOLERANCES


def test_domain_constructors_match_the_keywords() -> None:
    a = make_domain(2, box=(-1.0, 2.0), tol=TOL)
    b = Domain.box(-1.0, 2.0, dim=2)
    assert a.describe() == b.describe() == "box [-1, 2]^2"
    assert_allclose(a.center, [0.5, 0.5], atol=0)
    assert Domain.box([0.0, -1.0], [1.0, 1.0]).dim == 2
    assert Domain.whole_space(3).describe() == "R^3" and not Domain.whole_space(3).bounded
    tri = Domain.polytope([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]], [0.0, 0.0, 1.0])
    assert tri.bounded and tri.kind == "polytope"
    # Inscribed circle of the triangle (0,0), (1,0), (0,1): r = 1 / (2 + sqrt 2).
    assert_allclose(tri.radius, 1 / (2 + np.sqrt(2)), atol=1e-9)
    assert not Domain.polytope([[1.0, 0.0]], [1.0]).bounded


def test_domain_argument_equals_keywords() -> None:
    net = ReLUNetwork.random(2, [5, 4], seed=3)
    A = np.array([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]])
    c = np.array([1.0, 1.0, 1.0])
    assert count_regions(net, Domain.box(-1, 1, dim=2)) == count_regions(net, box=(-1, 1))
    assert count_regions(net, Domain.polytope(A, c)) == count_regions(net, polytope=(A, c))
    assert count_regions(net, Domain.whole_space(2)) == count_regions(net, whole_space=True)


def test_domain_errors_name_the_problem() -> None:
    net = ReLUNetwork.random(2, [3], seed=0)
    with pytest.raises(InvalidDomainError, match="at most one of domain=, box="):
        enumerate_regions(net, Domain.box(-1, 1, dim=2), box=(-1, 1))
    with pytest.raises(InvalidDomainError, match="dimension 3; expected the network's n_in = 2"):
        enumerate_regions(net, Domain.box(-1, 1, dim=3))
    with pytest.raises(InvalidDomainError, match="needs dim"):
        Domain.box(-1, 1)
    with pytest.raises(InvalidDomainError, match="must be a lpengine Domain"):
        enumerate_regions(net, (-1, 1))  # type: ignore[arg-type]
