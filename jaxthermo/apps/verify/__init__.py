"""``python -m jaxthermo.verify``: recompute published numbers and identities, one line per check.

Each layer or model has a module here (:mod:`.foundation`, :mod:`.inhomogeneous`, :mod:`.coherent`,
:mod:`.assignment`) with a list ``CHECKS`` of ``Check(name, source, run)``; ``run()`` returns a
:class:`CheckOutcome` ``(ok, detail)``. The command prints ``PASS``/``FAIL`` per check with its
source (a paper by citation key and equation, see docs/references.md, or a section of the docs)
and exits non-zero if any check fails.
"""

from __future__ import annotations

import argparse
import importlib
import time

from ._check import Check as Check
from ._check import CheckOutcome as CheckOutcome

CHECK_MODULES = (
    "jaxthermo.apps.verify.foundation",
    "jaxthermo.apps.verify.inhomogeneous",
    "jaxthermo.apps.verify.coherent",
    "jaxthermo.apps.verify.assignment",
)


def collect(modules=CHECK_MODULES) -> list[Check]:
    """All checks of the given modules, in order."""
    checks: list[Check] = []
    for name in modules:
        checks.extend(importlib.import_module(name).CHECKS)
    return checks


def run_check(check: Check) -> CheckOutcome:
    """Run one check; a check that raises is a failing check, with the exception as its detail."""
    try:
        ok, detail = check.run()
    except Exception as err:
        return CheckOutcome(False, f"raised {type(err).__name__}: {err}")
    return CheckOutcome(bool(ok), detail)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jaxthermo.verify", description=__doc__)
    parser.add_argument("-k", default="", help="run only checks whose name contains this text")
    args = parser.parse_args(argv)
    failures = 0
    start = time.perf_counter()
    checks = [c for c in collect() if args.k.lower() in c.name.lower()]
    for check in checks:
        ok, detail = run_check(check)
        failures += not ok
        print(f"{'PASS' if ok else 'FAIL'}  {check.name}  [{check.source}]  {detail}")
    print(f"{len(checks) - failures} passed, {failures} failed ({time.perf_counter() - start:.1f} s)")
    return 1 if failures else 0
