"""The model-A verify checks are registered, cite a source, and pass (docs/inhomogeneous.md, docs/misprints.md)."""

from jaxthermo.apps import verify
from jaxthermo.apps.verify import inhomogeneous as checks


def test_model_a_checks_registered_and_pass(capsys):
    assert "jaxthermo.apps.verify.inhomogeneous" in verify.CHECK_MODULES
    names = [c.name for c in checks.CHECKS]
    assert sum("misprint" in n for n in names) == 3
    for check in checks.CHECKS:
        assert check.source.strip()
    assert verify.main(["-k", "model A"]) == 0
    out = capsys.readouterr().out
    assert out.count("PASS") == len(checks.CHECKS) and "FAIL" not in out
