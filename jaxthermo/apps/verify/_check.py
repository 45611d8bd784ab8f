"""One verifiable statement (:class:`Check`) and what running it found (:class:`CheckOutcome`).

The check modules import these from here, and the runner (:mod:`jaxthermo.apps.verify`) imports the
check modules, so the imports go one way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple


class CheckOutcome(NamedTuple):
    """What one check found: whether it holds, and the numbers that show it."""

    ok: bool
    detail: str


class Check(NamedTuple):
    """One verifiable statement: a short name, where it is published, and how to check it."""

    name: str
    source: str
    run: Callable[[], CheckOutcome]
