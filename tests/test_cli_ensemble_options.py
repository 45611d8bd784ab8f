"""`jaxthermo ensemble --alphas … --dtype …`: the Rényi orders and the precision from the command line (they
needed a study file: ``[run] alphas``, ``[run] dtype``), the same run as the study file's keys."""

import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.apps import cli
from jaxthermo.apps.config import dumps, resolve

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")

OPTIONS = ["--steps", "5", "--configs", "200", "--seed", "2", "--sigma", "0.2", "--theta", "0.3", "--rho0", "ground"]


def _open(out):
    with xr.open_dataset(out / "results.nc", engine="h5netcdf") as ds:
        return ds.load()


def _ensemble(out, *extra):
    assert cli.main(["ensemble", *OPTIONS, "--out", str(out), "--no-plot", "--no-progress", *extra]) == 0
    return _open(out)


def _statistics(ds):
    return {v: ds[v].values for v in ds.data_vars if not v.startswith("elapsed")}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_alphas_and_dtype_options_are_the_study_files_keys(tmp_path, dtype):
    ds = _ensemble(tmp_path / "options", "--alphas", "0.5,2,inf", "--dtype", dtype)
    raw = {
        "study": {"study": "ensemble", "out": str(tmp_path / "file"), "seed": 2},
        "model": {"theta": 0.3},
        "distribution": {"sigma": 0.2},
        "initial_state": {"name": "ground"},
        "run": {"n_steps": 5, "n_configs": 200, "alphas": [0.5, 2.0, float("inf")], "dtype": dtype},
    }
    path = tmp_path / "study.toml"
    path.write_text(dumps(resolve(raw)))
    assert cli.main(["run", str(path), "--no-plot", "--no-progress"]) == 0
    want = _open(tmp_path / "file")
    np.testing.assert_array_equal(ds.alpha.values, [0.5, 2.0, np.inf])
    got, expected = _statistics(ds), _statistics(want)
    assert got.keys() == expected.keys()
    for name in got:
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)
    # the library's own call at that precision (float32: its documented accuracy against float64 holds)
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.2))
    res = jt.ensemble(model, np.diag([1.0, 0.0]), 5, 200, seed=2, alphas=(0.5, 2.0, np.inf), progress=False)
    tolerance = dict(rtol=1e-12, atol=1e-15) if dtype == "float64" else dict(rtol=1e-4, atol=1e-9)
    np.testing.assert_allclose(ds.mean_divergence.values, res.mean_divergence, **tolerance)
    np.testing.assert_allclose(ds.mean_cumulative_work.values, res.mean_cumulative_work, **tolerance)
    assert ds.mean_cumulative_work.dtype == (np.float32 if dtype == "float32" else np.float64)


def test_alphas_none_runs_without_divergences(tmp_path, capsys):
    ds = _ensemble(tmp_path / "out", "--alphas", "none")
    assert ds.sizes.get("alpha", 0) == 0
    assert "D_" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "text, message",
    [
        ("1,nan", "--alphas 1.0,nan: must be a list of real numbers (inf and -inf allowed, nan not)"),
        ("2,2", "--alphas 2.0,2.0: 2.0 given more than once"),
        ("1,x", "argument --alphas: '1,x': 'x' is not a number; e.g. 0.5,1,2,inf"),
    ],
)
def test_bad_alphas_are_refused_naming_the_option(tmp_path, capsys, monkeypatch, text, message):
    monkeypatch.setattr(jt, "ensemble", lambda *a, **k: pytest.fail("computed before refusing --alphas"))
    try:
        status = cli.main(["ensemble", "--alphas", text, "--out", str(tmp_path / "out"), "--no-plot"])
    except SystemExit as stop:  # argparse's own refusal
        status = stop.code
    assert status == 2
    err = capsys.readouterr().err
    assert f"jaxthermo ensemble: error: {message}" in err, err


@pytest.mark.parametrize(
    "options, law",
    [
        (["--distribution", "uniform", "--width", "0.3"], jt.Uniform(0.3)),
        (["--distribution", "two_point", "--delta", "0.1"], jt.TwoPoint(0.1)),
        (["--distribution", "uniform"], jt.Uniform(0.1)),  # the study file's default width
    ],
)
def test_the_distribution_option_runs_the_library_law(tmp_path, options, law):
    """`--distribution uniform --width 0.3` (the law needed a study file): the library's run with that law."""
    args = [a for a in OPTIONS if a not in ("--sigma", "0.2")]
    assert cli.main(["ensemble", *args, *options, "--out", str(tmp_path), "--no-plot", "--no-progress"]) == 0
    ds = _open(tmp_path)
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=law)
    res = jt.ensemble(model, np.diag([1.0, 0.0]), 5, 200, seed=2, progress=False)
    np.testing.assert_allclose(ds.mean_cumulative_work.values, res.mean_cumulative_work, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(ds.var_work.values, res.var_work, rtol=1e-10, atol=1e-18)
    assert f'name = "{options[1]}"' in ds.attrs["config_toml"]


@pytest.mark.parametrize(
    "options, message",
    [
        (["--distribution", "uniform", "--sigma", "0.1"], "--sigma: does not apply to --distribution uniform"),
        (["--delta", "0.1"], "--delta: does not apply to --distribution gaussian (only to --distribution two_point)"),
        (["--distribution", "uniform", "--width", "-1"], "--width = -1.0: must be >= 0"),
    ],
)
def test_a_parameter_of_another_law_is_refused_naming_the_options(tmp_path, capsys, monkeypatch, options, message):
    monkeypatch.setattr(jt, "ensemble", lambda *a, **k: pytest.fail("computed before refusing the law"))
    assert cli.main(["ensemble", *options, "--out", str(tmp_path / "out"), "--no-plot"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"jaxthermo ensemble: error: {message}"), err
