"""lpengine's HiGHS backend works after another HiGHS user in the same process started the scheduler."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("highspy")

# In a fresh process: a plain highspy model with default threads runs first (as cvxpy's HIGHS solver or a
# user's own model would), then lpengine solves an LP whose optimum is 1 (x0 + x1 >= 1, min x0 + x1).
_SCRIPT = """
import highspy, numpy as np
h = highspy.Highs(); h.setOptionValue("output_flag", False); x = h.addVariable(lb=1); h.minimize(x)
from lpengine.lp import LinearProgram, solve
res = solve(LinearProgram(c=np.array([1.0, 1.0]), A=np.array([[1.0, 1.0]]), row_lower=np.array([1.0])))
print(res.status.value, res.fun)
"""


def test_backend_solves_after_another_highs_user_started_the_scheduler():
    out = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=120, check=True)
    status, fun = out.stdout.split()[-2:]
    assert status == "optimal"
    assert float(fun) == 1.0
