"""``python -m jaxthermo.verify``: recompute published numbers and identities, one line per check.

Each model contributes a list ``CHECKS`` of ``Check(name, source, run)`` where ``run()`` returns
``(ok: bool, detail: str)``. The command prints ``PASS``/``FAIL`` per check with its source and
exits non-zero if any check fails.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from typing import Callable, NamedTuple


class Check(NamedTuple):
    """One verifiable statement: a short name, where it is published, and how to check it."""

    name: str
    source: str
    run: Callable[[], tuple[bool, str]]


CHECK_MODULES = (
    "jaxthermo._checks",
    "jaxthermo.inhomogeneous._checks",
    "jaxthermo.coherent._checks",
    "jaxthermo.assignment._checks",
)


def collect(modules=CHECK_MODULES) -> list[Check]:
    """All checks of the given modules, in order."""
    checks: list[Check] = []
    for name in modules:
        checks.extend(importlib.import_module(name).CHECKS)
    return checks


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jaxthermo.verify", description=__doc__)
    parser.add_argument("-k", default="", help="run only checks whose name contains this text")
    args = parser.parse_args(argv)
    failures = 0
    start = time.perf_counter()
    checks = [c for c in collect() if args.k.lower() in c.name.lower()]
    for check in checks:
        try:
            ok, detail = check.run()
        except Exception as err:  # a crashing check is a failing check
            ok, detail = False, f"raised {type(err).__name__}: {err}"
        failures += not ok
        print(f"{'PASS' if ok else 'FAIL'}  {check.name}  [{check.source}]  {detail}")
    print(f"{len(checks) - failures} passed, {failures} failed ({time.perf_counter() - start:.1f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
