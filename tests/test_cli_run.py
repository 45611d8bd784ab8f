"""`jaxthermo run/ensemble/init/--version` and `to_xarray`: the examples run
with tiny sizes, their netCDF reloads and equals a direct Python call of the same study."""

import pathlib
import tomllib

import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.apps import cli, study
from jaxthermo.apps.config import ConfigError, dumps, resolve

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")
pytest.importorskip("matplotlib")

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"
TINY = {"n_configs": 300, "n_steps": 12}


def _tiny(path, out):
    raw = tomllib.loads(path.read_text())
    raw["study"]["out"] = str(out)
    if "run" in raw:
        raw["run"].update(TINY)
    if "assignment" in raw:
        raw["assignment"]["n_times"] = 9
    return raw


def _write(raw, path):
    path.write_text(dumps(resolve(raw)))
    return path


def _open(out):
    with xr.open_dataset(out / "results.nc", engine="h5netcdf") as ds:
        return ds.load()


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.toml")))
def test_examples_run_and_write_their_outputs(name, tmp_path):
    out = tmp_path / "out"
    cfg_path = _write(_tiny(EXAMPLES / name, out), tmp_path / name)
    assert cli.main(["run", str(cfg_path), "--no-progress"]) == 0
    for f in ("results.nc", "summary.png", "config.resolved.toml"):
        assert (out / f).stat().st_size > 0, f
    resolved = tomllib.loads((out / "config.resolved.toml").read_text())
    assert resolved["versions"]["jaxthermo"] == jt.__version__
    ds = _open(out)
    assert ds.attrs["jaxthermo_version"] == jt.__version__
    # the resolved config reruns to the same numbers
    out2 = tmp_path / "again"
    assert cli.main(["run", str(out / "config.resolved.toml"), "--out", str(out2), "--no-progress", "--no-plot"]) == 0
    again = _open(out2)
    for var in ds.data_vars:
        np.testing.assert_array_equal(ds[var].values, again[var].values)


def test_the_resolved_config_reruns_from_another_directory(tmp_path, monkeypatch):
    """A run whose ρ0 is a .npy named relative to its working directory, and whose out is relative: its
    config.resolved.toml recorded both as written, so "rerun: jaxthermo run <path>" failed from any other directory
    (the file "cannot be read") or read another ρ0. Now absolute; the rerun from elsewhere gives the same numbers."""
    run_dir, other = tmp_path / "run", tmp_path / "elsewhere"
    run_dir.mkdir()
    other.mkdir()
    np.save(run_dir / "rho0.npy", np.diag([0.7, 0.3]).astype(complex))
    raw = {
        "study": {"study": "ensemble", "out": "out"},
        "run": dict(TINY),
        "initial_state": {"name": "file", "file": "rho0.npy"},
    }
    monkeypatch.chdir(run_dir)
    (run_dir / "s.toml").write_text(dumps(resolve(raw)))
    assert cli.main(["run", "s.toml", "--no-progress", "--no-plot"]) == 0
    resolved = tomllib.loads((run_dir / "out" / "config.resolved.toml").read_text())
    assert resolved["initial_state"]["file"] == str(run_dir / "rho0.npy")
    assert resolved["study"]["out"] == str(run_dir / "out")
    monkeypatch.chdir(other)
    again = other / "again"
    assert (
        cli.main(
            ["run", str(run_dir / "out" / "config.resolved.toml"), "--out", str(again), "--no-progress", "--no-plot"]
        )
        == 0
    )
    first, second = _open(run_dir / "out"), _open(again)
    for var in first.data_vars:
        np.testing.assert_array_equal(first[var].values, second[var].values)


def test_the_resolved_config_names_the_initial_state_file_by_its_digest(tmp_path, capsys):
    """config.resolved.toml recorded ρ0's file by its path alone: once the file was overwritten, the promised
    rerun started from another ρ0 and gave other numbers without a word. It records the file's SHA-256 (also in
    results.nc's config_toml), the rerun of the same file reproduces the run, and a changed file is refused
    naming both keys."""
    import hashlib

    rho_path = tmp_path / "rho0.npy"
    np.save(rho_path, np.diag([0.7, 0.3]).astype(complex))
    digest = hashlib.sha256(rho_path.read_bytes()).hexdigest()
    raw = {"study": {"study": "ensemble", "out": str(tmp_path / "a")}, "run": dict(TINY)}
    raw["initial_state"] = {"name": "file", "file": str(rho_path)}
    assert cli.main(["run", str(_write(raw, tmp_path / "s.toml")), "--no-progress", "--no-plot"]) == 0
    resolved_path = tmp_path / "a" / "config.resolved.toml"
    assert tomllib.loads(resolved_path.read_text())["initial_state"]["file_sha256"] == digest
    first = _open(tmp_path / "a")
    assert tomllib.loads(first.attrs["config_toml"])["initial_state"]["file_sha256"] == digest
    rerun = ["run", str(resolved_path), "--out", str(tmp_path / "b"), "--no-progress", "--no-plot"]
    assert cli.main(rerun) == 0
    np.testing.assert_array_equal(first.mean_work.values, _open(tmp_path / "b").mean_work.values)

    np.save(rho_path, np.diag([0.6, 0.4]).astype(complex))  # another ρ0 under the same name
    capsys.readouterr()
    rerun[3] = str(tmp_path / "c")
    assert cli.main(rerun) == 2
    err = capsys.readouterr().err
    assert f"[initial_state] file = '{rho_path}'" in err and f"not file_sha256 = '{digest}'" in err
    assert not (tmp_path / "c" / "results.nc").exists()


@pytest.mark.parametrize("digest", ["abc", "g" * 64, "0" * 63])
def test_a_malformed_file_digest_is_refused(digest):
    with pytest.raises(ConfigError, match=r"\[initial_state\] file_sha256 = .*64 hexadecimal digits"):
        resolve({"initial_state": {"name": "file", "file": "rho0.npy", "file_sha256": digest}})


def test_ensemble_netcdf_equals_direct_python_call(tmp_path):
    out = tmp_path / "ens"
    cfg = _write(_tiny(EXAMPLES / "ensemble_qutrit.toml", out), tmp_path / "s.toml")
    assert cli.main(["run", str(cfg), "--no-progress", "--no-plot"]) == 0
    ds = _open(out)
    model = jt.InhomogeneousReservoir(3, 1.0, 1.0, 0.2, kind="hamiltonian", distribution=jt.Gaussian(0.05))
    res = jt.ensemble(model, jt.thermal_state(3, 0.5, 1.0), 12, 300, seed=1, alphas=(1.0, 2.0, np.inf))
    np.testing.assert_allclose(ds.mean_work.values, res.mean_work, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ds.var_cumulative_work.values, res.var_cumulative_work, rtol=1e-10, atol=1e-18)
    np.testing.assert_allclose(ds.mean_state_real.values + 1j * ds.mean_state_imag.values, res.mean_state, atol=1e-14)
    np.testing.assert_allclose(ds.mean_divergence.sel(alpha=2.0).values, res.mean_divergence[:, 1], rtol=1e-12)
    np.testing.assert_array_equal(ds.work_histogram_counts.values, res.work_histogram.counts)
    assert list(ds.alpha.values) == [1.0, 2.0, np.inf]
    assert ds.attrs["n_configs"] == 300 and ds.attrs["seed"] == 1 and ds.attrs["model_d"] == 3
    assert ds.attrs["distribution"] == "Gaussian" and ds.attrs["distribution_sigma"] == 0.05
    assert "g0" in ds.attrs["units"]


def test_sweep_netcdf_equals_direct_python_call(tmp_path):
    out = tmp_path / "sw"
    cfg = _write(_tiny(EXAMPLES / "sweep_theta_sigma.toml", out), tmp_path / "s.toml")
    assert cli.main(["run", str(cfg), "--no-progress", "--no-plot"]) == 0
    ds = _open(out)
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, distribution=jt.Gaussian(0.05))
    grid = {"theta": [0.05, 0.1, 0.2, 0.4], "sigma": [0.02, 0.1]}
    res = jt.sweep(model, np.diag([1.0, 0.0]), 12, 300, 0, grid=grid, alphas=(1.0,))
    assert ds.mean_work.dims == ("theta", "sigma", "collision")
    np.testing.assert_allclose(ds.mean_work.values, res.stack("mean_work"), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ds.mean_work.sel(theta=0.2, sigma=0.1).values, res.at(theta=0.2, sigma=0.1).mean_work)


def test_coherent_scan_excited_population_is_the_upper_levels_for_either_sign_of_omega():
    """Ω < 0 makes |0⟩ the excited level of H_S = (Ω/2)σ_z, but excited_population was ρ_ss's |1⟩⟨1| for both signs
    (0.73 for Ω = −1, β = 1, λ = 0). Relabelling |0⟩ ↔ |1⟩ maps the model at −Ω onto the model at Ω (σ_x and V are
    symmetric under it), so the excited population is even in Ω; at λ = 0 it is the ancillae's thermal one,
    1/(1 + e^{β|Ω|})."""
    cfg = resolve({"study": {"study": "coherent_scan"}, "scan": {"omega": [-1.5, 1.5], "lam": [0.0, 0.2]}})
    ds = study.coherent_scan(cfg, progress=False)
    beta = cfg["coherent"]["beta"]
    p = ds.excited_population
    np.testing.assert_allclose(p.sel(lam=0.0).values, 1 / (1 + np.exp(beta * 1.5)), rtol=1e-10)
    np.testing.assert_allclose(p.sel(omega=-1.5).values, p.sel(omega=1.5).values, rtol=1e-10)
    assert abs(float(p.sel(lam=0.2, omega=1.5)) - float(p.sel(lam=0.0, omega=1.5))) > 1e-4  # the drive moves it


def test_assignment_summary_gives_each_point_its_own_scale():
    """The shipped example's dispersive point (Γ = 0.2, heat ~3·10⁻³) was a flat line at 0 beside the ultrastrong
    one (Γ = 4, ~1) on one y axis shared by every curve: now one row per point, the three assignments of a point on
    one scale. Each row's y range is of the order of its own curves (and holds them); beyond ASSIGNMENT_ROWS points,
    one row with a legend."""
    pytest.importorskip("matplotlib")
    from jaxthermo.apps import summary
    from jaxthermo.apps._plotting import pyplot

    raw = tomllib.loads((EXAMPLES / "assignment_regimes.toml").read_text())
    raw["assignment"]["n_times"] = 41
    ds = study.assignment_scan(resolve(raw), progress=False)
    fig = summary._assignment(pyplot(), ds)
    assert len(fig.axes) == 6
    peaks = []
    for row, gamma in enumerate((0.2, 4.0)):
        top = max(float(np.abs(ds[n].sel(effective_coupling=gamma)).max()) for n in ds.data_vars if "heat" in n)
        lo, hi = fig.axes[3 * row].get_ylim()
        assert hi >= top and hi - lo < 1.3 * top, (row, lo, hi, top)
        assert fig.axes[3 * row].get_ylabel().startswith(f"Δ = 2, Γ = {gamma:g}")
        peaks.append(top)
    assert peaks[1] > 50 * peaks[0]  # two scales that one shared axis could not show
    pyplot().close(fig)
    raw["scan"]["effective_coupling"] = list(np.linspace(0.2, 4.0, summary.ASSIGNMENT_ROWS + 1))
    ds = study.assignment_scan(resolve(raw), progress=False)
    fig = summary._assignment(pyplot(), ds)
    assert len(fig.axes) == 3 and len(fig.axes[0].get_legend().get_texts()) == summary.ASSIGNMENT_ROWS + 1
    pyplot().close(fig)


def test_assignment_scan_names_g_the_hopping_and_its_heats_do_not_depend_on_it(tmp_path, capsys):
    """Beside Γ = 2√(N1 N2)γ, a bare "g = 0.3" read as the coupling between the reservoirs: the page, its rows and the
    printed lines say "hopping g". Independent route for the numbers: at fixed ν_n, Δ and Γ the hopping only moves
    the modes orthogonal to the uniform one, which γ does not couple and which start in their Gibbs state, so every
    heat is the same at g = 0 and g = 0.3 (docs/assignment.md §5: h_n = ω_n + g(J − 1), ν_n = ω_n + (N_n − 1)g)."""
    from jaxthermo.apps import summary
    from jaxthermo.apps._plotting import pyplot

    raw = {"study": {"study": "assignment_scan"}, "assignment": {"n_times": 41}, "scan": {"g": [0.0, 0.3]}}
    ds = study.assignment_scan(resolve(raw), progress=False)
    for name in ("bare_heat", "interaction_heat", "minimal_dissipation_heat"):
        at = ds[name].sel(g=0.0).values
        np.testing.assert_allclose(ds[name].sel(g=0.3).values, at, rtol=1e-9, atol=1e-12 * np.abs(at).max())
        assert np.abs(at).max() > 1e-4  # a heat that flows, not two zeros
    fig = summary._assignment(pyplot(), ds)
    assert [fig.axes[3 * k].get_ylabel().split("\n")[0] for k in range(2)] == ["hopping g = 0", "hopping g = 0.3"]
    assert "N1 = 2, N2 = 2" in fig.texts[0].get_text()
    pyplot().close(fig)
    raw["scan"] = {"detuning": [1.0]}
    fig = summary._assignment(pyplot(), study.assignment_scan(resolve(raw), progress=False))
    assert ", hopping g = 0.1," in fig.texts[0].get_text()
    pyplot().close(fig)
    raw["scan"] = {"g": [0.0, 0.3]}
    raw["study"]["out"] = str(tmp_path / "out")
    assert cli.main(["run", str(_write(raw, tmp_path / "g.toml")), "--no-progress", "--no-plot"]) == 0
    printed = [line.split(":")[0] for line in capsys.readouterr().out.splitlines() if "Q_md" in line]
    assert printed == ["  hopping g = 0", "  hopping g = 0.3"]


def test_assignment_summary_marks_where_the_minimal_dissipation_heat_stops():
    """Q^md is NaN from the first time G(t) is singular (Δ = 0, g = 0, one mode each: t = π, where the excitation has
    fully moved to reservoir 2): its curve just stopped there. A dotted line at that time, named in a legend."""
    pytest.importorskip("matplotlib")
    from jaxthermo.apps import summary
    from jaxthermo.apps._plotting import pyplot

    raw = {
        "study": {"study": "assignment_scan"},
        "assignment": {"n1": 1, "n2": 1, "g": 0.0, "t_max": 2 * np.pi, "n_times": 41},
        "scan": {"detuning": [0.0, 0.5], "effective_coupling": [1.0]},
    }
    with pytest.warns(RuntimeWarning, match="non-invertible"):
        ds = study.assignment_scan(resolve(raw), progress=False)
    heat = ds.minimal_dissipation_heat.sel(detuning=0.0).values.ravel()
    first = ds.time.values[np.argmax(np.isnan(heat))]
    assert np.isnan(heat).any() and abs(first - np.pi) < 1e-9
    assert not np.isnan(ds.minimal_dissipation_heat.sel(detuning=0.5)).any()
    fig = summary._assignment(pyplot(), ds)
    dotted = [[ln for ln in a.get_lines() if ln.get_linestyle() == ":"] for a in fig.axes]
    assert [len(d) for d in dotted] == [0, 0, 1, 0, 0, 0]  # the md panel of the singular point only
    np.testing.assert_allclose(dotted[2][0].get_xdata(), [first, first])
    assert fig.axes[2].get_legend().get_texts()[0].get_text() == "G(t) singular at t = 3.142"
    pyplot().close(fig)


def test_coherent_summary_keeps_coinciding_curves_apart():
    """λ = 0 gives the same rates at every g: with one style ("o-") for every curve the second hid the first (six
    legend entries, five lines). Each curve now has its own marker and dash, each marker smaller than the one before;
    β's axis carries its unit."""
    pytest.importorskip("matplotlib")
    from jaxthermo.apps import summary
    from jaxthermo.apps._plotting import pyplot

    cfg = resolve({"study": {"study": "coherent_scan"}, "scan": {"beta": [0.5, 1.0], "lam": [0.0, 0.5], "g": [0.5, 1]}})
    ds = study.coherent_scan(cfg, progress=False)
    fig = summary._scan(pyplot(), ds, tuple(summary.SCAN_AXES))
    lines = fig.axes[0].get_lines()
    assert len(lines) == 4
    np.testing.assert_array_equal(lines[0].get_ydata(), lines[1].get_ydata())  # λ = 0 at g = 0.5 and g = 1
    styles = {(ln.get_marker(), ln.get_linestyle()) for ln in lines}
    assert len(styles) == 4 and lines[0].get_markersize() > lines[1].get_markersize()
    assert fig.axes[0].get_xlabel() == "β (1/energy)"
    pyplot().close(fig)


def test_coherent_and_assignment_scans_equal_direct_calls(tmp_path):
    out = tmp_path / "b"
    assert (
        cli.main(
            [
                "run",
                str(_write(_tiny(EXAMPLES / "coherent_lambda.toml", out), tmp_path / "b.toml")),
                "--no-progress",
                "--no-plot",
            ]
        )
        == 0
    )
    ds = _open(out)
    m = jt.qubit_example(omega=1.0, g=1.0, beta=2.0, lam=0.2, tau=0.01)
    rho = jt.steady_state(m)
    np.testing.assert_allclose(
        float(ds.coherent_work_rate.sel(lam=0.2, beta=2.0)), float(jt.coherent_work_rate(m, rho)), rtol=1e-12
    )
    np.testing.assert_allclose(
        float(ds.entropy_production_rate.sel(lam=0.2, beta=2.0)), float(jt.entropy_production_rate(m, rho)), rtol=1e-10
    )
    out = tmp_path / "c"
    assert (
        cli.main(
            [
                "run",
                str(_write(_tiny(EXAMPLES / "assignment_regimes.toml", out), tmp_path / "c.toml")),
                "--no-progress",
                "--no-plot",
            ]
        )
        == 0
    )
    ds = _open(out)
    q = jt.QuadraticReservoirs.from_regime(2, 2, 2.0, 4.0, 1.0, 0.1, beta1=1.0, beta2=0.5)
    e = q.energetics(np.linspace(0, 10.0, 9))
    np.testing.assert_allclose(
        ds.bare_heat.sel(detuning=2.0, effective_coupling=4.0).values, np.asarray(e.bare.heat), rtol=1e-12
    )


def test_quick_ensemble_command_resume_init_and_version(tmp_path, capsys):
    out = tmp_path / "q"
    args = [
        "ensemble",
        "--d",
        "3",
        "--theta",
        "0.2",
        "--sigma",
        "0.05",
        "--steps",
        "10",
        "--configs",
        "4e2",
        "--out",
        str(out),
        "--no-progress",
        "--no-plot",
    ]
    assert cli.main(args) == 0
    first = _open(out)
    assert first.attrs["n_configs"] == 400 and first.attrs["model_d"] == 3
    assert not (out / "checkpoint.npz").exists()  # removed once the run finished
    assert cli.main(args + ["--resume"]) == 0  # nothing to resume: a fresh run, same numbers
    np.testing.assert_array_equal(_open(out).mean_work.values, first.mean_work.values)
    capsys.readouterr()
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith(f"jaxthermo {jt.__version__} (JAX ")
    path = tmp_path / "study.toml"
    assert cli.main(["init", str(path)]) == 0
    assert cli.main(["init", str(path)]) == 1  # no silent overwrite
    cfg = resolve(tomllib.loads(path.read_text()))
    assert cfg["model"]["d"] == 3 and cfg["run"]["alphas"] == [1.0, np.inf]


def test_resume_continues_from_the_checkpoint(tmp_path):
    from jaxthermo.apps.study import run_model_a

    raw = {"study": {"out": str(tmp_path)}, "run": {"n_steps": 5, "n_configs": 400, "chunk_size": 100}}
    cfg = resolve(raw)
    calls = []
    real = jt.ensemble  # the runner calls jaxthermo's public ensemble

    def killed(*a, **kw):  # run two chunks, then "die"
        def cb(chunk, done):
            calls.append(done)
            if done >= 200:
                raise KeyboardInterrupt

        return real(*a, **dict(kw, callback=cb))

    try:
        jt.ensemble = killed
        with pytest.raises(KeyboardInterrupt):
            run_model_a(cfg, progress=False, out=str(tmp_path))
    finally:
        jt.ensemble = real
    assert (tmp_path / "checkpoint.npz").exists()
    res, _ = run_model_a(cfg, progress=False, resume=True, out=str(tmp_path))
    assert res.info["chunks_resumed"] == 2
    with pytest.raises(ConfigError, match="holds 4 finished chunks"):  # a plain rerun keeps them
        run_model_a(cfg, progress=False, resume=False, out=str(tmp_path))
    fresh, _ = run_model_a(cfg, progress=False, resume=False, restart=True, out=str(tmp_path))
    assert fresh.info["chunks_resumed"] == 0
    np.testing.assert_allclose(res.mean_work, fresh.mean_work, rtol=1e-12)


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"study": {"study": "ensembel"}}, "allowed values are 'ensemble', 'sweep'"),
        (
            {"model": {"kind": "pressure"}},
            r"\[model\] kind = 'pressure': allowed values are 'hamiltonian', 'temperature'",
        ),
        ({"model": {"dd": 3}}, r"\[model\] has unknown key 'dd'; allowed keys: d, beta"),
        ({"run": {"n_configs": "many"}}, r"\[run\] n_configs = \"many\": must be a"),
        ({"grid": {"theta": [0.1]}}, r"\[grid\]: not a table of study = 'ensemble'"),
        ({"study": {"study": "sweep"}, "grid": {"phi": [1.0]}}, r"unknown parameter 'phi'; allowed parameters: theta"),
        ({"distribution": {"name": "cauchy"}}, "allowed values are 'gaussian', 'uniform', 'two_point'"),
        ({"initial_state": {"name": "populations"}}, "needs populations"),
        (
            {"study": {"study": "coherent_scan"}, "scan": {"omega2": [1.0]}},
            "allowed parameters: omega, g, beta, lam$",
        ),
    ],
)
def test_bad_config_names_the_key_and_the_allowed_values(raw, message):
    with pytest.raises(ConfigError, match=message):
        resolve(raw)


def test_bad_config_from_the_command_line(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('[model]\nkind = "pressure"\n')
    assert cli.main(["run", str(path)]) == 2
    assert "[model] kind = 'pressure': allowed values are" in capsys.readouterr().err


def test_to_xarray_round_trip_through_netcdf(tmp_path):
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, kind="temperature", distribution=jt.Uniform(0.2))
    rho0 = np.array([[0.6, 0.2 - 0.1j], [0.2 + 0.1j, 0.4]])
    res = jt.ensemble(model, rho0, 6, 128, seed=7)
    ds = res.to_xarray(model=model)
    assert ds.mean_work.dims == ("collision",) and ds.mean_divergence.dims == ("step", "alpha")
    assert ds.mean_state_real.dims == ("step", "row", "col")
    ds.to_netcdf(tmp_path / "r.nc", engine="h5netcdf")
    with xr.open_dataset(tmp_path / "r.nc", engine="h5netcdf") as back:
        back = back.load()
    for var in ds.data_vars:
        np.testing.assert_array_equal(back[var].values, ds[var].values)
    for key, value in ds.attrs.items():
        np.testing.assert_array_equal(back.attrs[key], value)
    assert back.attrs["model_kind"] == "temperature" and back.attrs["coherent"] == 1
    np.testing.assert_allclose(back.mean_state_real.values + 1j * back.mean_state_imag.values, res.mean_state)

    sw = jt.sweep(model, rho0, 6, 64, grid={"beta": [0.5, 1.0], "width": [0.1, 0.2, 0.3]})
    ds = sw.to_xarray(model=model)
    assert ds.mean_heat.dims == ("beta", "width", "collision") and ds.attrs["grid"] == "beta,width"
    ds.to_netcdf(tmp_path / "s.nc", engine="h5netcdf")
    with xr.open_dataset(tmp_path / "s.nc", engine="h5netcdf") as back:
        np.testing.assert_array_equal(
            back.mean_heat.sel(beta=1.0, width=0.3).values, sw.at(beta=1.0, width=0.3).mean_heat
        )


@pytest.mark.parametrize("n_steps", [3, 5])
def test_to_xarray_keeps_the_cumulants_of_the_totals_on_their_own_axis(n_steps):
    """k2, k3, k4 of W_N and Q_N: once dropped, and at N = 3 mislabelled as per-collision values."""
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.1))
    res = jt.ensemble(model, jt.thermal_state(2, 1.0, 1.0), n_steps, 256, seed=3)
    ds = res.to_xarray(model=model)
    for name in ("work_cumulants", "heat_cumulants"):
        assert ds[name].dims == ("cumulant",) and ds[name].cumulant.values.tolist() == [2, 3, 4]
        np.testing.assert_array_equal(ds[name].values, getattr(res, name))
        assert "cumulant" in ds[name].attrs["long_name"]
    assert ds.mean_exp_minus_beta_work.dims == () and float(ds.mean_exp_minus_beta_work) == float(
        res.mean_exp_minus_beta_work
    )


def test_sweep_over_several_n_steps_pads_the_shorter_runs_with_nan(tmp_path):
    out = tmp_path / "sw"
    raw = {
        "study": {"study": "sweep", "out": str(out)},
        "run": {"n_steps": 5, "n_configs": 200},
        "grid": {"theta": [0.1, 0.2], "n_steps": [2, 4]},
    }
    assert cli.main(["run", str(_write(raw, tmp_path / "s.toml")), "--no-progress"]) == 0
    assert (out / "summary.png").stat().st_size > 0
    ds = _open(out)
    assert ds.mean_work.dims == ("theta", "n_steps", "collision") and ds.attrs["grid"] == "theta,n_steps"
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, distribution=jt.Gaussian(0.05))
    sw = jt.sweep(model, jt.thermal_state(2, 1.0, 1.0), 5, 200, 0, grid=raw["grid"], alphas=(1.0, np.inf))
    for n in (2, 4):
        point = ds.sel(theta=0.2, n_steps=n)
        np.testing.assert_allclose(point.mean_work.values[:n], sw.at(theta=0.2, n_steps=n).mean_work, rtol=1e-12)
        assert np.all(np.isnan(point.mean_work.values[n:])) and np.all(np.isnan(point.mean_state_divergence[n + 1 :]))
    assert "n_steps" not in ds.attrs  # a grid parameter: its values are the coordinate


@pytest.mark.parametrize("kind", ["ensemble", "sweep"])
def test_summary_without_divergences(kind, tmp_path):
    out = tmp_path / kind
    raw = {"study": {"study": kind, "out": str(out)}, "run": {"n_steps": 3, "n_configs": 64, "alphas": []}}
    if kind == "sweep":
        raw["grid"] = {"theta": [0.1, 0.2]}
    assert cli.main(["run", str(_write(raw, tmp_path / "s.toml")), "--no-progress"]) == 0
    assert (out / "summary.png").stat().st_size > 0 and _open(out).sizes["alpha"] == 0


def test_attributes_name_the_scanned_parameters_instead_of_their_base_values(tmp_path):
    runs = {
        "sweep": ({"run": {"n_steps": 3, "n_configs": 64}, "grid": {"theta": [0.1, 0.2], "sigma": [0.0, 0.1]}}),
        "coherent_scan": {"scan": {"lam": [0.0, 0.1]}},
    }
    for kind, raw in runs.items():
        out = tmp_path / kind
        raw["study"] = {"study": kind, "out": str(out)}
        assert cli.main(["run", str(_write(raw, tmp_path / f"{kind}.toml")), "--no-progress", "--no-plot"]) == 0
        ds = _open(out)
        scanned = list(raw.get("grid", raw.get("scan")))
        assert ds.attrs["scanned"] == ",".join(scanned)
        if kind == "sweep":
            assert "model_theta" not in ds.attrs and "distribution_sigma" not in ds.attrs
            assert ds.attrs["model_beta"] == 1.0  # not scanned: the value of every point
            for var in ("mean_exp_minus_beta_work", "work_histogram_counts", "averaged_reservoir_state_real"):
                assert ds[var].attrs["long_name"], var
            assert "total work W_N" in ds.mean_exp_minus_beta_work.attrs["long_name"]
        else:
            assert "coherent_lam" not in ds.attrs and ds.attrs["coherent_beta"] == 1.0


def _overlapping(labels):
    """Pairs of visible, non-empty tick labels whose drawn boxes intersect."""
    boxes = [t.get_window_extent() for t in labels if t.get_visible() and t.get_text()]
    return [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if a.overlaps(b)]


def test_summary_is_readable(tmp_path):
    """The W_N histogram's tick labels (0.00025, 0.00050, …) ran into each other, the α = ∞ curve was
    labelled 'α=inf' and the title spelt 'beta=1, theta=0.2, n_configs=500' (configuration keys)."""
    from jaxthermo.apps import summary
    from jaxthermo.apps._plotting import pyplot

    raw = {
        "study": {"out": str(tmp_path / "o")},
        "model": {"d": 3, "theta": 0.2},
        "run": {"n_steps": 20, "n_configs": 500},
    }
    assert cli.main(["run", str(_write(raw, tmp_path / "s.toml")), "--no-progress", "--no-plot"]) == 0
    plt = pyplot()
    fig = summary._ensemble(plt, _open(tmp_path / "o"))
    fig.canvas.draw()
    hist, divergences = fig.axes[3], fig.axes[2]
    assert not _overlapping(hist.get_xticklabels())
    assert "unit of g0" in hist.get_xlabel() and "per unit of g0" in hist.get_ylabel()
    labels = [line.get_label() for line in divergences.get_lines()]
    assert any("α = ∞" in label for label in labels) and not any("inf" in label for label in labels)
    title = fig._suptitle.get_text()
    assert "θ = 0.2" in title and "500 configurations" in title and "theta=" not in title and "beta=" not in title
    plt.close(fig)


def test_sweep_summary_keeps_coinciding_series_visible_and_decades_readable():
    """Two σ with the same D_1(θ) were drawn as identical 'o-' lines (the first hidden), and D_1 falling
    from 0.2 to 1e-8 over θ showed as a flat 0 on a linear axis (synthetic Dataset: no computing)."""
    from jaxthermo.apps import summary
    from jaxthermo.apps._plotting import pyplot

    theta, sigma = np.array([0.05, 0.1, 0.2, 0.4]), np.array([0.02, 0.1])
    d1 = np.array([[0.2, 0.2], [0.08, 0.08], [3e-3, 3e-3], [4e-9, 6e-7]])
    work = np.ones((4, 2, 3)) * 1e-3
    ds = xr.Dataset(
        {
            "mean_cumulative_work": (("theta", "sigma", "collision"), work),
            "var_cumulative_work": (("theta", "sigma", "collision"), work**2),
            "mean_state_divergence": (("theta", "sigma", "step", "alpha"), np.repeat(d1[:, :, None, None], 4, 2)),
        },
        coords={"theta": theta, "sigma": sigma, "alpha": [1.0]},
        attrs={"study": "sweep", "grid": "theta,sigma", "n_configs": 100, "model_beta": 1.0},
    )
    plt = pyplot()
    fig = summary._sweep(plt, ds)
    work_ax, divergence_ax = fig.axes
    assert divergence_ax.get_yscale() == "log"
    styles = {(line.get_marker(), line.get_linestyle(), line.get_markersize()) for line in divergence_ax.get_lines()}
    assert len(styles) == 2
    assert [t.get_text() for t in divergence_ax.get_legend().get_texts()] == ["σ = 0.02", "σ = 0.1"]
    assert work_ax.get_xlabel() == "θ"
    plt.close(fig)


def test_model_b_and_c_results_state_their_units():
    """results.nc of a model-A run carried 'units'; those of coherent_scan and assignment_scan had none."""
    from jaxthermo.apps import study

    b = study.coherent_scan(resolve({"study": {"study": "coherent_scan"}, "scan": {"lam": [0.1]}}), progress=False)
    raw = {"study": {"study": "assignment_scan"}, "assignment": {"n_times": 3}, "scan": {"detuning": [1.0]}}
    c = study.assignment_scan(resolve(raw), progress=False)
    for ds in (b, c):
        assert "ħ = k_B = 1" in ds.attrs["units"]
        assert all(ds[v].attrs.get("units") for v in ds.data_vars), ds
    assert b.entropy_production_rate.attrs["units"] == "nats/time" and c.time.attrs["units"] == "1/energy"
