"""The scripts of scripts/coherent run, and their claims hold on short runs."""

import importlib.util
import pathlib

import numpy as np
import pytest

SCRIPTS = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "coherent"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"coherent_{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_optax_chi_optimisation_improves_work_and_respects_the_bound(tmp_path):
    history = _load("optimise_chi").main(tmp_path, steps=60)
    beta_wc, consumed, margin = history[:, 1], history[:, 2], history[:, 3]
    assert beta_wc[-1] > 3 * beta_wc[0]  # the optimiser climbs
    assert np.all(margin >= 0)  # βW_C ≥ −ΔC_A all along, at the optimum included
    assert beta_wc[-1] / consumed[-1] >= 1.0
    assert (tmp_path / "optimise_chi.png").exists() and (tmp_path / "optimise_chi.csv").exists()
