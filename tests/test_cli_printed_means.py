"""The totals a model-A `jaxthermo run` prints at its end: ⟨W_N⟩, ⟨Q_N⟩, ⟨ΔU_N⟩ and ⟨D_α(ρ_S|N‖τ_S)⟩ at r = N
± 1 standard error, per grid point of a sweep. A run without ``[run] wrt`` printed only the names of the
files it wrote: the numbers the study was run for were one ``xarray.open_dataset`` away."""

import re

import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.apps import cli
from jaxthermo.apps.config import dumps, resolve

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")

NUMBER = r"(-?[0-9.]+(?:e[-+]?[0-9]+)?)"


def _printed(tmp_path, capsys, study="ensemble", grid=None, model=None, **run):
    raw = {
        "study": {"study": study, "out": str(tmp_path / "out"), "seed": 3},
        "model": model or {"theta": 0.3},
        "distribution": {"sigma": 0.2},
        "initial_state": {"name": "ground"},
        "run": {"n_steps": 4, "n_configs": 64, **run},
    }
    if grid:
        raw["grid"] = grid
    path = tmp_path / "study.toml"
    path.write_text(dumps(resolve(raw)))
    assert cli.main(["run", str(path), "--no-plot", "--no-progress"]) == 0
    return capsys.readouterr().out


def _value(line, label, unit):
    """``(mean, standard error)`` of ``label = mean ± se unit`` in a printed line."""
    found = re.search(re.escape(label) + rf" = {NUMBER} ± {NUMBER} {unit}", line)
    assert found, (label, line)
    return float(found.group(1)), float(found.group(2))


def _library(theta=0.3, n_steps=4, n_configs=64):
    model = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=theta, distribution=jt.Gaussian(0.2))
    ground = np.diag([1.0, 0.0])  # |0⟩⟨0| (docs/conventions.md)
    return jt.ensemble(model, ground, n_steps=n_steps, n_configs=n_configs, seed=3)


def _check(line, res, n):
    """The printed numbers are the library's at r = N (4 significant digits; the s.e. 2), and obey ΔU = W + Q."""
    printed = {}
    for label, field in (("⟨W_N⟩", "cumulative_work"), ("⟨Q_N⟩", "cumulative_heat")):
        printed[label] = _value(line, label, "energy")
        mean, var = getattr(res, f"mean_{field}")[-1], getattr(res, f"var_{field}")[-1]
        np.testing.assert_allclose(printed[label][0], mean, rtol=5e-4, err_msg=label)
        np.testing.assert_allclose(printed[label][1], np.sqrt(var / n), rtol=5e-2, err_msg=label)
    energy, _ = _value(line, "⟨ΔU_N⟩", "energy")
    np.testing.assert_allclose(energy, res.mean_cumulative_energy_change[-1], rtol=5e-4)
    # the first law between the printed numbers: within the rounding of the three
    assert abs(energy - printed["⟨W_N⟩"][0] - printed["⟨Q_N⟩"][0]) <= 1e-3 * (
        abs(energy) + abs(printed["⟨W_N⟩"][0]) + abs(printed["⟨Q_N⟩"][0])
    ), line
    divergence, se = _value(line, "⟨D_1(ρ_S|N‖τ_S)⟩", "nat")
    np.testing.assert_allclose(divergence, res.mean_divergence[-1, 0], rtol=5e-4)
    np.testing.assert_allclose(se, np.sqrt(res.var_divergence[-1, 0] / n), rtol=5e-2)


def test_an_ensemble_prints_its_totals_at_r_equal_n(tmp_path, capsys):
    out = _printed(tmp_path, capsys)
    assert "means at r = N (± 1 standard error over 64 configurations; all in results.nc):" in out, out
    line = " ".join(out[out.index("means at r = N") :].splitlines()[1:5])
    _check(line, _library(), 64)


def test_a_sweep_prints_each_point_at_its_own_n(tmp_path, capsys):
    """A grid over n_steps pads the shorter N with NaN in results.nc: each point's totals are read at its own N."""
    out = _printed(tmp_path, capsys, study="sweep", grid={"theta": [0.1, 0.3], "n_steps": [2, 4]})
    lines = {line.split(":")[0].strip(): line for line in out.splitlines() if line.startswith("  θ = ")}
    assert list(lines) == ["θ = 0.1, N = 2", "θ = 0.1, N = 4", "θ = 0.3, N = 2", "θ = 0.3, N = 4"], out
    for key, line in lines.items():
        theta, n_steps = float(key.split(",")[0].split("=")[1]), int(key.split("=")[-1])
        _check(line, _library(theta, n_steps), 64)
    assert "nan" not in out, out


def test_one_configuration_and_no_divergences(tmp_path, capsys):
    """One configuration: no standard error, no "± nan"; ``alphas = []``: no divergence line."""
    out = _printed(tmp_path, capsys, n_configs=1, alphas=[])
    assert "means at r = N (1 configuration; all in results.nc):" in out, out
    assert "⟨W_N⟩ = " in out and "(no standard error from one configuration)" in out, out
    assert "nan" not in out and "±" not in out and "D_" not in out, out


def _scan(tmp_path, capsys, study, table, scan):
    out = tmp_path / study
    raw = {"study": {"study": study, "out": str(out)}, table: {}, "scan": scan}
    if table == "assignment":
        raw[table] = {"n1": 2, "n2": 2, "t_max": 2.0, "n_times": 21}
    path = tmp_path / f"{study}.toml"
    path.write_text(dumps(resolve(raw)))
    assert cli.main(["run", str(path), "--no-plot", "--no-progress"]) == 0
    with xr.open_dataset(out / "results.nc", engine="h5netcdf") as ds:
        return capsys.readouterr().out, ds.load()


def test_a_coherent_scan_prints_the_steady_state_rates(tmp_path, capsys):
    """Model B's steady state per scan point: the printed rates are results.nc's, and obey the steady state's
    balances, Ẇ_C + Q̇_inc = d⟨H_S⟩/dt = 0 ([WCCM] eqs. (12)–(13)) and Π = Ṡ − βQ̇_inc = −βQ̇_inc (eq. (17))."""
    out, ds = _scan(tmp_path, capsys, "coherent_scan", "coherent", {"lam": [0.0, 0.1, 0.3], "beta": [0.5, 2.0]})
    assert "steady state (docs/coherent.md §3; all in results.nc):" in out, out
    lines = [line for line in out.splitlines() if line.startswith("  λ = ")]
    assert len(lines) == 6 and "-0 " not in out, out
    for line in lines:
        lam, beta = (float(part.split("=")[1]) for part in line.split(":")[0].split(","))
        at = ds.sel(lam=lam, beta=beta)
        work, heat, production = (
            float(re.search(rf"{symbol} = {NUMBER} ", line).group(1)) for symbol in ("Ẇ_C", "Q̇_inc", "Π")
        )
        np.testing.assert_allclose(
            [work, heat, production],
            [at.coherent_work_rate, at.incoherent_heat_rate, at.entropy_production_rate],
            rtol=5e-4,
            atol=1e-15,
        )
        assert abs(work + heat) <= 1e-3 * abs(work) + 1e-12, line
        assert abs(production + beta * heat) <= 1e-3 * abs(production) + 1e-12, line
    assert any(abs(float(re.search(rf"Π = {NUMBER}", line).group(1))) > 1e-3 for line in lines)  # not all zero


def test_an_assignment_scan_prints_the_heats_at_the_last_time_and_their_peak(tmp_path, capsys):
    """Model C's heats per scan point: Q_bare = Q_int printed once (both Q̃_S + Q̃_I, [CVS25]; results.nc holds
    them as two variables, equal at every time) and Q_md, at the last time and at their peak: the signed value
    of largest |Q| and its time (it was printed as "largest -0.0047" under a "largest |Q|" header)."""
    out, ds = _scan(tmp_path, capsys, "assignment_scan", "assignment", {"effective_coupling": [0.2, 4.0]})
    np.testing.assert_allclose(ds.bare_heat, ds.interaction_heat, rtol=1e-12, atol=1e-15)
    assert not np.allclose(ds.bare_heat, ds.minimal_dissipation_heat, rtol=1e-3)  # three heats, two values
    assert "heat into reservoir 1 at t = 2, and its peak (largest |Q|) over 0 ≤ t ≤ 2:" in out, out
    lines = [line for line in out.splitlines() if line.startswith("  Γ = ")]
    assert len(lines) == 2, out
    for line, coupling in zip(lines, (0.2, 4.0)):
        at = ds.sel(effective_coupling=coupling)
        found = re.search(rf"Q_bare = Q_int = {NUMBER} energy \(peak {NUMBER} at t = {NUMBER}\)", line)
        heat, k = at.bare_heat.values, np.argmax(np.abs(at.bare_heat.values))
        np.testing.assert_allclose(float(found.group(1)), heat[-1], rtol=5e-4, err_msg=line)
        np.testing.assert_allclose(float(found.group(2)), heat[k], rtol=5e-4, err_msg=line)
        np.testing.assert_allclose(float(found.group(3)), ds.time.values[k], rtol=5e-4, err_msg=line)
        # Q_md ± its quadrature error estimate, at the last time and at the peak
        pm = rf"{NUMBER} ± {NUMBER}"
        found = re.search(rf"Q_md = {pm} energy \(peak {pm} at t = {NUMBER}\)", line)
        heat, error = at.minimal_dissipation_heat.values, at.minimal_dissipation_heat_error.values
        k = np.argmax(np.abs(heat))
        for printed, value in zip(found.groups(), (heat[-1], error[-1], heat[k], error[k], ds.time.values[k])):
            np.testing.assert_allclose(float(printed), value, rtol=5e-2, err_msg=line)
        # results.nc's error is the library's estimate for the same model and grid
        model = jt.QuadraticReservoirs.from_regime(2, 2, 1.0, coupling, 1.0, 0.1, beta1=1.0, beta2=0.5)
        direct = model.energetics(ds.time.values)
        np.testing.assert_allclose(error, direct.quadrature_error, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(heat, direct.minimal_dissipation.heat, rtol=1e-12)
        assert np.all(error < 1e-6 * np.max(np.abs(heat)))  # a smooth case: the estimate far below the heat


def test_a_singular_minimal_dissipation_heat_is_said_not_printed_as_nan():
    """Q^md is NaN where G(t) is singular (results.nc's long name says so): the line says so in words."""
    from jaxthermo.apps.summary import scan_lines

    time = np.linspace(0.0, 1.0, 3)
    ds = xr.Dataset(
        {
            name: (("effective_coupling", "time"), np.full((1, 3), value))
            for name, value in (("bare_heat", 0.5), ("interaction_heat", 0.25), ("minimal_dissipation_heat", np.nan))
        },
        coords={"effective_coupling": [1.0], "time": time},
        attrs={"study": "assignment_scan"},
    )
    ds["bare_heat"][0, 1] = -0.75
    assert scan_lines(ds) == [
        "heat into reservoir 1 at t = 1, and its peak (largest |Q|) over 0 ≤ t ≤ 1:",
        "  Γ = 1: Q_bare = Q_int = 0.5 energy (peak -0.75 at t = 0.5); Q_md undefined (singular)",
    ]


@pytest.mark.parametrize("wrt", [["theta"], ["sigma"]])
def test_a_sweep_figure_draws_the_derivative_along_its_axis(tmp_path, capsys, monkeypatch, wrt):
    """summary.png of a sweep with [run] wrt naming the plotted parameter: a black bar through each point with
    the slope ∂⟨W_N⟩/∂θ of results.nc (the derivative against the curve of the grid); none for another one."""
    pytest.importorskip("matplotlib")
    from jaxthermo.apps import summary

    figures = []
    monkeypatch.setattr(summary, "save_figure", lambda fig, path, **kw: figures.append(fig))
    raw = {
        "study": {"study": "sweep", "out": str(tmp_path / "out"), "seed": 3},
        "distribution": {"sigma": 0.2},
        "run": {"n_steps": 3, "n_configs": 32, "wrt": wrt},
        "grid": {"theta": [0.2, 0.4, 0.8]},
    }
    path = tmp_path / "study.toml"
    path.write_text(dumps(resolve(raw)))
    assert cli.main(["run", str(path), "--no-progress"]) == 0
    with xr.open_dataset(tmp_path / "out" / "results.nc", engine="h5netcdf") as ds:
        work = ds.mean_cumulative_work.values[:, -1]
        slope = ds[f"sensitivity_{wrt[0]}_mean_cumulative_work"].values[:, -1]
    axis = figures[0].axes[0]
    bars = [line for line in axis.get_lines() if line.get_color() == "k"]
    if wrt != ["theta"]:
        assert bars == [] and "slope" not in axis.get_title()
        return
    assert len(bars) == 3 and "black bars: the slope ∂⟨W_N⟩/∂θ of [run] wrt" in axis.get_title()
    for bar, theta, w, s in zip(bars, (0.2, 0.4, 0.8), work, slope):
        (x0, x1), (y0, y1) = bar.get_xdata(), bar.get_ydata()
        np.testing.assert_allclose([(x0 + x1) / 2, (y0 + y1) / 2], [theta, w], rtol=1e-12)
        np.testing.assert_allclose((y1 - y0) / (x1 - x0), s, rtol=1e-9)


@pytest.mark.parametrize("angles", [4, 8])
def test_a_theta_schedule_prints_each_derivative_with_its_error_or_their_range(tmp_path, capsys, angles):
    """∂⟨W_N⟩/∂θ_s of a schedule was printed as its range alone, without a standard error: now each of a
    short schedule ± its s.e. (the library's numbers), and the range of a long one with the largest s.e."""
    thetas = [0.1, 0.2, 0.3, 0.4] * (angles // 4)
    out = _printed(tmp_path, capsys, n_steps=angles, wrt=["theta"], model={"theta": thetas})
    model = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=thetas, distribution=jt.Gaussian(0.2))
    res = jt.ensemble(model, np.diag([1.0, 0.0]), n_steps=angles, n_configs=64, seed=3, wrt=("theta",))
    mean = res.sensitivity["theta"].mean_cumulative_work[-1]
    se = np.sqrt(res.sensitivity["theta"].var_cumulative_work[-1] / 64)
    line = next(line for line in out.splitlines() if line.startswith(f"  ∂⟨W_N⟩/∂θ_s, s = 1…{angles}: "))
    numbers = [float(x) for x in re.findall(NUMBER, line.split(": ", 1)[1])]
    if angles == 4:
        np.testing.assert_allclose(numbers[0::2], mean, rtol=5e-4)
        np.testing.assert_allclose(numbers[1::2], se, rtol=5e-2)
    else:
        np.testing.assert_allclose(numbers, [mean.min(), mean.max(), se.max()], rtol=5e-2)
        assert "(standard errors ≤ " in line, line


def test_a_temperature_inhomogeneity_says_why_its_work_is_zero(tmp_path, capsys):
    """β_r = β(1+δ) leaves the level spacings equal: W_r = 0 in every collision (docs/inhomogeneous.md), and
    the printed ⟨W_N⟩ = 0 ± 0 says why, while ⟨Q_N⟩ = ⟨ΔU_N⟩ carries the energy."""
    out = _printed(tmp_path, capsys, model={"theta": 0.3, "kind": "temperature"})
    line = next(line for line in out.splitlines() if "⟨W_N⟩" in line)
    assert line == "  ⟨W_N⟩ = 0 ± 0 energy (a temperature inhomogeneity does no work)", out
    heat = next(line for line in out.splitlines() if "⟨Q_N⟩" in line).split("=")[1]
    assert heat == next(line for line in out.splitlines() if "⟨ΔU_N⟩" in line).split("=")[1], out


def test_a_temperature_inhomogeneity_says_why_its_work_derivatives_are_zero(tmp_path, capsys):
    """W_r = 0 for every β_r, so ∂⟨W_N⟩/∂p = 0 ± 0 for every parameter p, said once; the divergence's
    derivative is not zero (the heat moves ρ_S)."""
    out = _printed(tmp_path, capsys, model={"theta": 0.3, "kind": "temperature"}, wrt=["theta", "sigma"])
    tail = out[out.index("derivatives at r = N") :].splitlines()
    assert "  ∂⟨W_N⟩/∂θ = 0 ± 0 energy/rad" in tail and "  ∂⟨W_N⟩/∂σ = 0 ± 0 energy" in tail, out
    assert "  ∂⟨W_N⟩ = 0 for every parameter: a temperature inhomogeneity does no work" in tail, out
    divergence = next(line for line in tail if line.startswith("  ∂⟨D_1(ρ_S|N‖τ_S)⟩/∂θ = "))
    assert abs(_value(divergence, "∂⟨D_1(ρ_S|N‖τ_S)⟩/∂θ", "nat/rad")[0]) > 1e-6, out


def test_the_entropy_production_is_printed(tmp_path, capsys):
    """⟨ΔS_1 + … + ΔS_N⟩ ± 1 standard error: the library's running sum at r = N and √(var/n) of each configuration's
    total, per point of a sweep over N as well."""
    out = _printed(tmp_path, capsys)
    found = re.search(rf"⟨ΔS_1 \+ … \+ ΔS_N⟩ = {NUMBER} ± {NUMBER} nat \(entropy production\)", out)
    assert found, out
    lib = _library()
    np.testing.assert_allclose(float(found.group(1)), lib.mean_cumulative_entropy_production[-1], rtol=5e-4)
    np.testing.assert_allclose(float(found.group(2)), lib.standard_error("total_entropy_production"), rtol=5e-2)
    (tmp_path / "sweep").mkdir()
    out = _printed(tmp_path / "sweep", capsys, study="sweep", grid={"n_steps": [2, 4]})
    printed = [float(v) for v in re.findall(rf"⟨ΔS_1 \+ … \+ ΔS_N⟩ = {NUMBER} ±", out)]
    expected = [_library(n_steps=n).mean_cumulative_entropy_production[-1] for n in (2, 4)]
    np.testing.assert_allclose(printed, expected, rtol=5e-4)
