"""The model-A verify checks are registered and cite a source (docs/inhomogeneous.md, docs/misprints.md).

That they pass is checked by ``python -m jaxthermo.verify``, which ``make test`` runs after pytest for every
model (running the model-A checks here as well doubled 91 s of the suite on a 2-core AMD EPYC);
tests/test_verify.py checks the command's exit codes and report."""

from jaxthermo.apps import verify
from jaxthermo.apps.verify import inhomogeneous as checks


def test_model_a_checks_registered_with_their_sources():
    assert "jaxthermo.apps.verify.inhomogeneous" in verify.CHECK_MODULES
    names = [c.name for c in checks.CHECKS]
    assert len(names) == len(set(names)) and all(n.startswith("model A") for n in names)
    assert sum("misprint" in n for n in names) == 3
    for check in checks.CHECKS:
        assert check.source.strip()
