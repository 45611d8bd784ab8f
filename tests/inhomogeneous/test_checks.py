"""The model-A verify checks are registered, cite a source, and pass (issue 3 item 7)."""

from jaxthermo import verify
from jaxthermo.inhomogeneous import _checks


def test_model_a_checks_registered_and_pass(capsys):
    assert "jaxthermo.inhomogeneous._checks" in verify.CHECK_MODULES
    names = [c.name for c in _checks.CHECKS]
    assert sum("misprint" in n for n in names) == 3
    for check in _checks.CHECKS:
        assert check.source.strip()
    assert verify.main(["-k", "model A"]) == 0
    out = capsys.readouterr().out
    assert out.count("PASS") == len(_checks.CHECKS) and "FAIL" not in out
