"""The model-B verification checks are registered, cite [WCCM], and pass (docs/coherent.md)."""

import pytest

from jaxthermo.apps.verify import CHECK_MODULES, collect
from jaxthermo.apps.verify.coherent import CHECKS


def test_registered_with_sources():
    assert "jaxthermo.apps.verify.coherent" in CHECK_MODULES
    assert {c.name for c in CHECKS} <= {c.name for c in collect()}
    assert all("[WCCM]" in c.source for c in CHECKS)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name[:40])
def test_check_passes(check):
    ok, detail = check.run()
    assert ok, detail
