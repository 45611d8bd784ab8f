"""The ``jaxthermo`` command as a physicist uses it without Python (helper-61): default folders, options
and TOML keys that must be applied or refused, and numbers that must equal the Python API's."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.apps import cli
from jaxthermo.apps.figures import run_script


def test_figures_default_to_the_ignored_area_folder(tmp_path, monkeypatch, capsys):
    """`jaxthermo figures` and scripts/inhomogeneous/<name>.py wrote into figures/ itself, not figures/inhomogeneous
    like every other study of scripts/ (README: PNG + CSV in `figures/<area>/`)."""
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["figures", "--only", "fig4", "--quick"]) == 0
    assert run_script("preprint_fig2", ["--quick"]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in (tmp_path / "figures" / "inhomogeneous").iterdir()) == [
        "fig4.csv",
        "fig4.png",
        "preprint_fig2.csv",
        "preprint_fig2.png",
    ]
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["inhomogeneous"]
    with pytest.raises(SystemExit):
        cli.main(["figures", "--help"])
    assert "(default: figures/inhomogeneous)" in capsys.readouterr().out


def test_spin_z_refuses_an_integer_dtype():
    """jt.spin_z(d, dtype=int32) returned float64 (d = 2: the entries ±1/2 cannot be int32) without a word."""
    for d in (2, 3):
        with pytest.raises(TypeError, match="dtype=int32"):
            jt.spin_z(d, dtype=jnp.int32)
    for dtype in (jnp.float32, jnp.float64, jnp.complex64, jnp.complex128):
        s = jt.spin_z(3, dtype=dtype)
        assert s.dtype == dtype
        np.testing.assert_array_equal(np.asarray(s), np.diag([-1.0, 0.0, 1.0]))
