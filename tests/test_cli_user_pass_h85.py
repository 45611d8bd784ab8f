"""A user's pass over `jaxthermo run` with ``[run] wrt`` (derivatives from the command line).

- ∂/∂β and ∂/∂g0 were those of ``jt.ensemble`` at a fixed ρ0, while a study's ``[initial_state] name =
  "thermal"`` is τ_S(β, g0), which moves with g0 (and with β by default), so a central difference of two runs
  of the study differed from the printed derivative (∂⟨D_1⟩/∂β by a factor 1.7 for ρ0 = τ_S at N = 20): the
  study now passes ρ0 as a function of the model, and results.nc and the printed lines say that the
  derivatives include its change.
- The printed derivative of ⟨D_α(ρ_S|N‖τ_S)⟩ at r = N was read at the k-th non-NaN step (k the number of
  them), not at step N: with ``[run] divergence_every`` (every 20th collision by default for a coherent ρ0
  of d ≥ 3) it printed ``nan ± nan`` or the derivative at an earlier step, while results.nc held the number.
"""

import numpy as np
import pytest

from jaxthermo.apps import cli
from jaxthermo.apps.config import dumps, resolve

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")


def _run(tmp_path, initial_state, wrt, model=None, **run):
    out = tmp_path / "out"
    raw = {
        "study": {"study": "ensemble", "out": str(out), "seed": 1},
        "model": {"theta": 0.3, **(model or {})},
        "distribution": {"sigma": 0.2},
        "initial_state": initial_state,
        "run": {"n_steps": 4, "n_configs": 32, "wrt": wrt, **run},
    }
    path = tmp_path / "study.toml"
    path.write_text(dumps(resolve(raw)))
    assert cli.main(["run", str(path), "--no-plot", "--no-progress"]) == 0
    with xr.open_dataset(out / "results.nc", engine="h5netcdf") as ds:
        return ds.load()


def test_derivatives_in_beta_and_g0_include_the_change_of_a_thermal_rho0(tmp_path, capsys):
    """A thermal [initial_state] is τ_S(β, g0) of the model: ∂/∂β and ∂/∂g0 include its change (they were
    once taken at fixed ρ0 and said so), and agree with the central difference of two studies at p ± h."""
    ds = _run(tmp_path, {"name": "thermal"}, ["theta", "beta", "g0"])
    printed = capsys.readouterr().out
    for name in ("beta", "g0"):
        for field in ("mean_cumulative_work", "var_work", "mean_divergence", "mean_state_real"):
            comment = ds[f"sensitivity_{name}_{field}"].attrs.get("comment", "")
            assert "including the change of ρ0 = τ_S(β, g0)" in comment, (name, field, comment)
    assert "comment" not in ds.sensitivity_theta_mean_cumulative_work.attrs  # θ does not enter ρ0
    assert "∂/∂β and ∂/∂g0 including the change of ρ0 = τ_S(β, g0)" in printed, printed
    h = 1e-5
    for name in ("beta", "g0"):
        runs = []
        for sign in (1, -1):
            (tmp_path / name).mkdir(exist_ok=True)
            runs.append(_run(tmp_path / name, {"name": "thermal"}, [], model={name: 1.0 + sign * h}))
        for field in ("mean_cumulative_work", "mean_heat", "mean_divergence"):
            want = (runs[0][field].values - runs[1][field].values) / (2 * h)
            got = ds[f"sensitivity_{name}_{field}"].values
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-6 * np.max(np.abs(want)), err_msg=f"{name} {field}")


def test_a_given_initial_state_beta_moves_with_g0_only(tmp_path, capsys):
    ds = _run(tmp_path, {"name": "thermal", "beta": 0.5}, ["beta", "g0"])
    assert "comment" not in ds.sensitivity_beta_mean_cumulative_work.attrs  # ρ0 = τ_S(0.5, g0): not β
    assert "τ_S(β = 0.5 of [initial_state], g0)" in ds.sensitivity_g0_mean_heat.attrs["comment"]


def test_no_rho0_note_where_rho0_does_not_depend_on_the_parameters(tmp_path, capsys):
    ds = _run(tmp_path, {"name": "ground"}, ["beta", "g0"])
    assert "comment" not in ds.sensitivity_beta_mean_cumulative_work.attrs
    assert "change of ρ0" not in capsys.readouterr().out


@pytest.mark.parametrize("every", [2, 3])  # N = 4: steps 0, 2, 4 (the 3rd is step 2); 0, 3, 4 (4 rows)
def test_printed_divergence_derivative_is_the_one_at_step_n_with_divergence_every(tmp_path, capsys, every):
    ds = _run(tmp_path, {"name": "ground"}, ["theta"], divergence_every=every)
    printed = capsys.readouterr().out
    mean = ds.sensitivity_theta_mean_divergence.sel(alpha=1.0).values
    var = ds.sensitivity_theta_var_divergence.sel(alpha=1.0).values
    assert np.isnan(mean[1]) and np.isfinite(mean[-1])  # strided: NaN between
    se = float(np.sqrt(var[-1] / 32))
    assert f"∂⟨D_1(ρ_S|N‖τ_S)⟩/∂θ = {mean[-1]:.4g} ± {se:.2g} nat/rad" in printed, printed
    assert "nan" not in printed


def test_summary_png_says_what_the_plus_minus_of_its_derivative_line_is(tmp_path, monkeypatch):
    """Its panels shade ±2 standard errors; the ∂⟨W_N⟩ line under the title gave ± 1 without saying so."""
    from jaxthermo.apps import summary

    figures = []
    monkeypatch.setattr(summary, "save_figure", lambda fig, path, **kw: figures.append(fig))
    raw = {
        "study": {"study": "ensemble", "out": str(tmp_path / "out")},
        "initial_state": {"name": "ground"},
        "run": {"n_steps": 3, "n_configs": 32, "wrt": ["theta"]},
    }
    path = tmp_path / "study.toml"
    path.write_text(dumps(resolve(raw)))
    assert cli.main(["run", str(path), "--no-progress"]) == 0
    title = figures[0]._suptitle.get_text()
    assert "∂⟨W_N⟩/∂θ = " in title and "(± 1 standard error)" in title, title


def test_a_single_name_for_wrt_is_refused_saying_how_to_write_the_list(tmp_path, capsys):
    """``wrt = "theta"`` said only "must be a list": not the names, nor how to write one."""
    path = tmp_path / "study.toml"
    path.write_text('[study]\nout = "unused"\n[run]\nwrt = "theta"\n')
    assert cli.main(["run", str(path), "--no-plot", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith('jaxthermo run: error: [run] wrt = "theta": must be a list') and 'wrt = ["theta"]' in err, err


def test_one_configuration_prints_no_standard_error_rather_than_nan_or_zero(tmp_path, capsys):
    """n_configs = 1: the variances are NaN (undefined); the printed ∂⟨W_N⟩ said "± nan" and ∂⟨D_1⟩ "± 0"
    (the variance read at step 0, the last non-NaN row, not at step N)."""
    ds = _run(tmp_path, {"name": "ground"}, ["theta", "deltas"], n_configs=1)
    printed = capsys.readouterr().out
    assert np.isnan(ds.sensitivity_theta_var_divergence.values[-1]).all()
    lines = [line for line in printed.splitlines() if "∂" in line]
    # ∂⟨W_N⟩, ∂⟨D_1⟩, ∂⟨ΔS_1 + … + ΔS_N⟩ and ∂W_N/∂δ_r
    assert len(lines) == 4 and all("no standard error from one configuration" in line for line in lines), printed
    assert "nan" not in printed and "± 0 " not in printed, printed
