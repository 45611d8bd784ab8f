"""The model-C verification checks are registered and pass."""

import pytest

from jaxthermo.apps.verify import CHECK_MODULES, collect
from jaxthermo.apps.verify.assignment import CHECKS


def test_registered():
    assert "jaxthermo.apps.verify.assignment" in CHECK_MODULES
    names = {c.name for c in collect()}
    assert {c.name for c in CHECKS} <= names


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name[:40])
def test_check_passes(check):
    ok, detail = check.run()
    assert ok, detail
