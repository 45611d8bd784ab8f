"""save_result / save_sweep name a wrong result argument (jaxthermo/ensemble/_result.py, _sweep.py).

Before: save_result(result, "run.npz") (the arguments swapped) raised "TypeError: must be called with a
dataclass type or instance", naming neither the function nor the argument; save_sweep of a single
result failed on a missing attribute."""

from __future__ import annotations

import pytest

import jaxthermo as jt


@pytest.fixture(scope="module")
def runs():
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, distribution=jt.Gaussian(0.05))
    rho0 = jt.thermal_state(2, 1.0, 1.0)
    return jt.ensemble(model, rho0, 3, 16), jt.sweep(model, rho0, 3, 16, grid={"theta": [0.1, 0.2]})


def test_swapped_arguments_name_the_result(runs, tmp_path):
    result, sweep = runs
    with pytest.raises(TypeError, match=r"save_result\(path, result\): result must be an EnsembleResult; got str"):
        jt.save_result(result, str(tmp_path / "a"))
    with pytest.raises(
        TypeError, match=r"save_sweep\(path, result\): result must be a SweepResult; got EnsembleResult"
    ):
        jt.save_sweep(tmp_path / "b", result)
    with pytest.raises(TypeError, match="must be an EnsembleResult; got SweepResult"):
        jt.save_result(tmp_path / "c", sweep)
    assert not list(tmp_path.iterdir())  # nothing written
    jt.save_result(tmp_path / "d", result)
    jt.save_sweep(tmp_path / "e", sweep)
    assert jt.load_sweep(tmp_path / "e").stack("mean_total_work").shape == (2,)
