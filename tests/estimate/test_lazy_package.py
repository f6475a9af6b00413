"""``phasegate.estimate`` loads its submodules on first use (PEP 562), and its names mean what
they meant when it imported them all at once: ``remaining`` and ``backtest`` are functions of
the package even though they are also the names of submodules, whichever is imported first."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys, types
import phasegate.estimate as estimate
assert "phasegate.estimate.estimator" not in sys.modules, "imported eagerly"
import phasegate.estimate.remaining as via_import  # the submodule first: sets the attribute
import phasegate.estimate.backtest
from phasegate.estimate import backtest, digest, fit, remaining
from phasegate.estimate.estimator import fit as fit_itself
from phasegate.estimate.remaining import remaining as remaining_itself
print(
    remaining is remaining_itself,
    callable(backtest) and not isinstance(backtest, types.ModuleType),
    fit is fit_itself,
    isinstance(digest, types.ModuleType),
    estimate.remaining is remaining_itself,
)
try:
    estimate.no_such_name
except AttributeError:
    print("AttributeError")
"""


def test_the_package_names_are_its_functions_and_load_on_first_use() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split("\n")[:2] == ["True True True True True", "AttributeError"]
