"""Derivatives from the command line: ``[run] wrt`` of a study file and ``jaxthermo ensemble --wrt``.

The sensitivities in results.nc are those of ``jt.ensemble(..., wrt=...)`` (docs/ensemble.md §5), agree
with central differences of two runs on the same configurations, exist per grid point of a sweep; a
name the model has no derivative for is refused before computing, and so is a resume with another wrt.
"""

import pathlib
import re
import tomllib

import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.apps import cli
from jaxthermo.apps.config import dumps, resolve
from jaxthermo.apps.study import run_model_a

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")

# a qubit started in its ground state, far from τ_S, so that every derivative is well away from 0
THETA, SIGMA, N, CONFIGS, SEED = 0.3, 0.1, 5, 32, 3
RHO0 = np.diag([1.0, 0.0])


def _raw(out, study="ensemble", **run):
    return {
        "study": {"study": study, "out": str(out), "seed": SEED},
        "model": {"theta": THETA},
        "distribution": {"sigma": SIGMA},
        "initial_state": {"name": "ground"},
        "run": {"n_steps": N, "n_configs": CONFIGS, **run},
    }


def _run(tmp_path, raw, *extra):
    """``jaxthermo run`` of ``raw`` written as a study file (through dumps, as config.resolved.toml is)."""
    path = tmp_path / "study.toml"
    path.write_text(dumps(resolve(raw)))
    return cli.main(["run", str(path), "--no-plot", "--no-progress", *extra])


def _open(out):
    with xr.open_dataset(out / "results.nc", engine="h5netcdf") as ds:
        return ds.load()


def _model(theta=THETA):
    return jt.InhomogeneousReservoir(2, 1.0, 1.0, theta, distribution=jt.Gaussian(SIGMA))


def _sensitivities(ds):
    return sorted(v for v in ds.data_vars if "sensitivity_" in v)


def test_results_hold_the_library_sensitivities(tmp_path, capsys):
    """Every derivative in results.nc equals jt.ensemble(..., wrt=...) of the same model and seed, with a
    unit and a long name; config.resolved.toml keeps the key; the run prints ∂⟨W_N⟩/∂θ and ∂⟨ΔS_1 + … + ΔS_N⟩/∂θ
    ± their s.e."""
    wrt = ["theta", "sigma", "deltas"]
    out = tmp_path / "out"
    assert _run(tmp_path, _raw(out, wrt=wrt)) == 0
    printed = capsys.readouterr().out
    ds = _open(out)
    res = jt.ensemble(_model(), RHO0, N, CONFIGS, SEED, wrt=tuple(wrt), progress=False)
    want = res.to_xarray(model=_model())
    assert _sensitivities(ds) == _sensitivities(want) and len(_sensitivities(ds)) > 30  # none without wrt
    for name in _sensitivities(want):
        np.testing.assert_allclose(ds[name].values, want[name].values, rtol=0, atol=1e-12, err_msg=name)
        assert ds[name].attrs["units"] and ds[name].attrs["long_name"], name
    assert ds.sensitivity_theta_mean_cumulative_work.attrs["units"] == "energy/rad"
    assert ds.sensitivity_sigma_var_cumulative_work.attrs["units"] == "energy^2"

    d_theta = res.sensitivity["theta"]
    se = float(d_theta.standard_error("cumulative_work")[-1])
    assert f"∂⟨W_N⟩/∂θ = {d_theta.mean_cumulative_work[-1]:.4g} ± {se:.2g} energy/rad" in printed
    se = float(d_theta.standard_error("total_entropy_production"))
    assert f"∂⟨ΔS_1 + … + ΔS_N⟩/∂θ = {d_theta.mean_total_entropy_production:.4g} ± {se:.2g} nat/rad" in printed
    resolved = tomllib.loads((out / "config.resolved.toml").read_text())
    assert resolved["run"]["wrt"] == wrt
    again = tmp_path / "again"  # config.resolved.toml reruns to the same derivatives
    assert cli.main(["run", str(out / "config.resolved.toml"), "--out", str(again), "--no-plot", "--no-progress"]) == 0
    rerun = _open(again)
    for name in _sensitivities(ds):
        np.testing.assert_array_equal(rerun[name].values, ds[name].values, err_msg=name)


def _ensemble(out, *extra, wrt=None, **values):
    """`jaxthermo ensemble` of the module's study (``values``: theta or sigma changed) into ``out``."""
    values = {"theta": THETA, "sigma": SIGMA, **values}
    args = ["ensemble", "--steps", str(N), "--configs", str(CONFIGS), "--seed", str(SEED), "--rho0", "ground"]
    args += [f"--{k}={v!r}" for k, v in values.items()] + (["--wrt", wrt] if wrt else [])
    return cli.main(args + ["--out", str(out), "--no-plot", "--no-progress", *extra])


def _finite_difference(tmp_path, name, value, h):
    """(⟨W_N⟩, ⟨D_1(ρ_S|N‖τ_S)⟩) central difference of runs at ``name`` = value ± h (same seed), and the
    largest of those means."""
    ends = []
    for sign in (1, -1):
        out = tmp_path / f"{name}{sign * h:+g}"
        assert _ensemble(out, **{name: value + sign * h}) == 0
        ds = _open(out)
        ends.append(np.array([ds.mean_cumulative_work.values[-1], ds.mean_divergence.sel(alpha=1.0).values[-1]]))
    return (ends[0] - ends[1]) / (2 * h), np.max(np.abs(ends))


@pytest.mark.parametrize("name, value", [("theta", THETA), ("sigma", SIGMA)])
def test_derivative_equals_central_difference_of_two_runs(tmp_path, name, value):
    """∂⟨W_N⟩ and ∂⟨D_1(ρ_S|N‖τ_S)⟩ by --wrt against central differences of runs at value ± h: the same seed
    draws the same ε (δ = σε), so both sides average the same configurations and differ only by the
    difference's own error. Tolerance: D_h = f' + c h² + O(h⁴), so D_h − D_2h = −3c h² + O(h⁴) and the
    truncation error of D_h is |D_h − D_2h|/3 (taken twice, for the O(h⁴) rest); the rounding error of a mean
    of sums over N collisions is below 4N ulp of its size, 4N·eps·max|f|, divided by 2h in D_h."""
    out = tmp_path / "ad"
    assert _ensemble(out, wrt=name) == 0
    ds = _open(out)
    exact = np.array(
        [
            ds[f"sensitivity_{name}_mean_cumulative_work"].values[-1],
            ds[f"sensitivity_{name}_mean_divergence"].sel(alpha=1.0).values[-1],
        ]
    )
    h = 1e-3
    d_h, scale = _finite_difference(tmp_path, name, value, h)
    d_2h, _ = _finite_difference(tmp_path, name, value, 2 * h)
    tolerance = 2 * np.abs(d_h - d_2h) / 3 + 4 * N * np.finfo(float).eps * scale / (2 * h)
    np.testing.assert_array_less(np.abs(exact - d_h), tolerance)
    assert np.all(tolerance < 1e-4 * np.abs(exact))  # the check is sharp: far below the derivatives


def test_sweep_writes_derivatives_per_grid_point(tmp_path, capsys):
    """A sweep with [run] wrt: per grid point the derivatives of that point's own jt.ensemble run."""
    raw = dict(_raw(tmp_path / "out", "sweep", wrt=["sigma", "deltas"]), grid={"theta": [0.2, 0.4]})
    assert _run(tmp_path, raw) == 0
    printed = capsys.readouterr().out
    ds = _open(tmp_path / "out")
    assert ds.sensitivity_sigma_mean_cumulative_work.dims == ("theta", "collision")
    assert ds.delta_sensitivity_mean_work.dims == ("theta", "collision")
    for theta in (0.2, 0.4):
        res = jt.ensemble(_model(theta), RHO0, N, CONFIGS, SEED, wrt=("sigma", "deltas"), progress=False)
        at = ds.sel(theta=theta)
        for field in ("mean_cumulative_work", "var_cumulative_work", "mean_state_divergence"):
            got = at[f"sensitivity_sigma_{field}"].values
            np.testing.assert_allclose(got, getattr(res.sensitivity["sigma"], field), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(at.delta_sensitivity_mean_work, res.delta_sensitivity.mean_work, rtol=1e-12)
        assert f"θ = {theta:g}: ∂⟨W_N⟩/∂σ = {res.sensitivity['sigma'].mean_cumulative_work[-1]:.4g} ± " in printed
    # the two points differ: each is its own, not the base model's repeated
    assert not np.allclose(*ds.sensitivity_sigma_mean_cumulative_work.values)


@pytest.mark.parametrize(
    "study, table, wrt, message",
    [
        ("ensemble", {}, ["foo"], "[\"foo\"]: 'foo': not a parameter of this model with a derivative"),
        ("ensemble", {}, ["theta", "theta"], "'theta' given more than once"),
        ("ensemble", {}, ["g_int"], "'g_int': not a parameter"),  # of coupling = "exact" only
        ("sweep", {"name": "uniform", "width": 0.1}, ["sigma"], "'sigma': not a parameter"),
        ("ensemble", {}, "theta", '"theta": must be a list'),
        ("ensemble", {}, [1], "[1]: must be a list of parameter names"),
    ],
)
def test_names_without_a_derivative_are_refused_before_computing(
    tmp_path, capsys, monkeypatch, study, table, wrt, message
):
    """An unknown or repeated name, or a field of another law or coupling: status 2, one line naming
    [run] wrt and the names the model allows, and the engine never called."""
    for engine in ("ensemble", "sweep"):
        monkeypatch.setattr(jt, engine, lambda *a, **k: pytest.fail("computed before refusing [run] wrt"))
    raw = _raw(tmp_path / "out", study)
    raw["run"]["wrt"] = wrt
    raw["distribution"] = table or raw["distribution"]
    if study == "sweep":
        raw["grid"] = {"theta": [0.2, 0.4]}
    path = tmp_path / "study.toml"
    path.write_text(dumps(raw))  # unresolved: a bad value as the user wrote it
    assert cli.main(["run", str(path), "--no-plot", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxthermo run: error: [run] wrt = ") and message in err, err
    if isinstance(wrt, list) and all(isinstance(n, str) for n in wrt):
        law = "width" if table else "sigma"
        assert err.rstrip().endswith(f"allowed names: theta, beta, g0, {law}, deltas"), err
    assert not (tmp_path / "out" / "results.nc").exists()
    if wrt == ["foo"]:  # the README quotes this refusal
        readme = " ".join((pathlib.Path(__file__).parents[1] / "README.md").read_text().split())
        assert re.search(r'`(\[run\] wrt = \["foo"\][^`]*)`', readme).group(1) in err


def test_ensemble_option_wrt_is_named_in_its_errors(tmp_path, capsys, monkeypatch):
    """`jaxthermo ensemble --wrt theta,foo` names its option, not the key of a study file."""
    monkeypatch.setattr(jt, "ensemble", lambda *a, **k: pytest.fail("computed before refusing --wrt"))
    args = ["ensemble", "--wrt", "theta,foo", "--out", str(tmp_path / "out"), "--no-plot", "--no-progress"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxthermo ensemble: error: --wrt theta,foo: 'foo': not a parameter"), err


@pytest.mark.parametrize("text", [",", "theta,,sigma", "theta, "])
def test_an_empty_name_in_the_wrt_option_is_refused(tmp_path, capsys, monkeypatch, text):
    """``--wrt ,`` ran without derivatives and ``--wrt theta,,sigma`` took two names: a typo passed silently."""
    monkeypatch.setattr(jt, "ensemble", lambda *a, **k: pytest.fail("computed before refusing --wrt"))
    args = ["ensemble", "--wrt", text, "--out", str(tmp_path / "out"), "--no-plot", "--no-progress"]
    with pytest.raises(SystemExit) as stop:
        cli.main(args)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --wrt: {text!r}: an empty name; give comma-separated names, e.g. theta,sigma" in err, err


def test_resume_with_another_wrt_is_refused_by_name(tmp_path, capsys):
    """The checkpoint of a run with wrt = ["theta"] resumes with the same wrt only; another is named as
    [run] wrt (--wrt for `jaxthermo ensemble`) and nothing is discarded."""
    out = tmp_path / "out"
    out.mkdir()
    run_model_a(resolve(_raw(out, wrt=["theta"])), progress=False, out=str(out))  # leaves its checkpoint
    assert _run(tmp_path, _raw(out, wrt=["sigma"]), "--resume") == 2
    err = capsys.readouterr().err
    assert '[run] wrt: ["sigma"] here, ["theta"] in the checkpoint' in err, err  # as the study file writes it
    assert _ensemble(out, "--resume") == 2  # no --wrt: none
    assert "(--wrt: none here, theta in the checkpoint)" in capsys.readouterr().err  # as --wrt takes it
    assert (out / "checkpoint.npz").exists()
    assert _run(tmp_path, _raw(out, wrt=["theta"]), "--resume") == 0  # the same wrt resumes
    assert "sensitivity_theta_mean_work" in _open(out)
