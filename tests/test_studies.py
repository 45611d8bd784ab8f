"""The optax studies of scripts/ run in their --quick mode, write PNG + CSV, and beat their baselines."""

import importlib.util
import pathlib

import numpy as np
import pytest

SCRIPTS = pathlib.Path(__file__).resolve().parents[1] / "scripts"


def _load(area, name):
    spec = importlib.util.spec_from_file_location(f"study_{area}_{name}", SCRIPTS / area / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _outputs_exist(path, name):
    assert (path / f"{name}.png").stat().st_size > 10_000
    assert (path / f"{name}.csv").read_text().startswith("series,x,y\n")


@pytest.mark.slow
def test_optimal_schedule_costs_less_work_than_the_best_constant_theta(tmp_path):
    res = _load("inhomogeneous", "optimal_schedule").main(tmp_path, quick=True)
    _outputs_exist(tmp_path, "optimal_schedule")
    opt, const = res["optimum_mc"], res["best_constant"]
    assert opt["d_rms_exact"] == pytest.approx(const["d_rms_exact"], rel=1e-9)  # same final distance
    assert opt["work_exact"] < 0.9 * const["work_exact"]  # exact quadrature route
    assert opt["work_mc"] < const["work_mc"] - 3 * np.hypot(opt["work_mc_stderr"], const["work_mc_stderr"])
    assert abs(opt["work_mc"] - opt["work_exact"]) < 5 * opt["work_mc_stderr"]
    assert res["optimum_exact"]["work_exact"] <= opt["work_exact"] + 1e-3
    assert abs(opt["d_rms_exact"] / 0.03 - 1) < 0.05


@pytest.mark.slow
def test_fit_sigma_recovers_the_true_sigma_within_its_error_bar(tmp_path):
    """Also: the fit is the minimum of its own χ² profile. It was where Adam's decayed steps stopped: in --quick
    mode σ = 0.2002 with χ² = 0.46 above the minimum of its profile (near 0.2014), so the drawn fit ± s.e. band
    was off the profile's minimum by 0.7 s.e.; now χ² at the fit is no higher than at any point of the profile
    (brute force on 41 points). One run of the script for both checks (70–80 s on a 2-core AMD EPYC)."""
    res = _load("inhomogeneous", "fit_sigma").main(tmp_path, quick=True)
    _outputs_exist(tmp_path, "fit_sigma")
    assert abs(res["sigma_fit"] - res["sigma_true"]) < 3 * res["fisher_se"]
    assert res["fisher_se"] < 0.05 * res["sigma_true"]
    lo, hi = res["profile_interval"]
    assert lo < res["sigma_fit"] < hi
    rows = [line.split(",") for line in (tmp_path / "fit_sigma.csv").read_text().splitlines()[1:]]
    profile = np.array([float(y) for series, _, y in rows if series == "chi2 profile"])
    assert profile.size == 41
    assert res["chi2_min"] <= profile.min() + 1e-6
    assert abs(res["sigma_fit"] - 0.5 * (lo + hi)) < 0.3 * res["fisher_se"]


@pytest.mark.slow
def test_max_violation_matches_the_closed_form_maximiser(tmp_path):
    res = _load("inhomogeneous", "max_violation").main(tmp_path, quick=True)
    _outputs_exist(tmp_path, "max_violation")
    assert res["1"]["max_on_grid"] <= 1e-12  # ΔF_1 ≤ W
    for name in ("2", "3", "inf"):
        r = res[name]
        assert r["closed_form_max_abs_diff"] < 1e-12
        assert r["violation_optax"] > 0 and r["violation_optax"] == pytest.approx(r["violation_closed_form"], rel=1e-4)
        assert abs(r["delta_optax"] - r["delta_closed_form"]) < 2e-3
        assert r["delta_star"] < r["delta_optax"] < r["delta_upper"]
        # the violation beats its value at the start of the search
        assert r["violation_optax"] > 0


@pytest.mark.slow
def test_coherent_power_beats_the_paper_chi_at_the_same_entropy_production(tmp_path):
    res = _load("coherent", "coherent_power").main(tmp_path, quick=True)
    _outputs_exist(tmp_path, "coherent_power")
    o, b, brute = res["optax"], res["paper_chi_sigma_x"], res["brute_force"]
    assert o["sigma"] == pytest.approx(res["sigma_target"], rel=0.02)
    assert o["power"] > 1.5 * b["power"] > 0
    assert o["power"] > 0.95 * brute["power"]
    assert abs(o["lambda"]) < res["lambda_max"]
