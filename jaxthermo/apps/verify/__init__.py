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
import sys
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


# what `--help` says (the module docstring above is for developers: modules, classes, markup)
DESCRIPTION = (
    "Recompute the published numbers and identities of the three models (papers by citation key and "
    "equation, see docs/references.md) and the misprints of docs/misprints.md: one line PASS/FAIL per "
    "check with its source and the numbers compared. Exit status 0 when every check passes, 1 when one "
    "fails, 2 when -k matches no check."
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jaxthermo.verify", description=DESCRIPTION)
    parser.add_argument(
        "-k", default="", help="run only checks whose name contains this text (case-insensitive), e.g. -k misprint"
    )
    args = parser.parse_args(argv)
    failures = 0
    start = time.perf_counter()
    everything = collect()
    checks = [c for c in everything if args.k.lower() in c.name.lower()]
    if not checks:  # a misspelt -k used to report "0 passed, 0 failed" and exit 0
        names = "\n  ".join(c.name for c in everything)
        print(
            f"python -m jaxthermo.verify: error: -k {args.k!r} matches no check; the checks:\n  {names}",
            file=sys.stderr,
        )
        return 2
    for check in checks:
        ok, detail = run_check(check)
        failures += not ok
        print(f"{'PASS' if ok else 'FAIL'}  {check.name}  [{check.source}]  {detail}")
    print(f"{len(checks) - failures} passed, {failures} failed ({time.perf_counter() - start:.1f} s)")
    return 1 if failures else 0
