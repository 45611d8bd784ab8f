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


def _io():
    pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")


def test_summary_energies_are_labelled_in_the_unit_of_g0_not_divided_by_it(tmp_path, capsys):
    """summary.png labelled model-A energies 'energy / g0', 'W_N [g0]', while results.nc and the plot hold them
    in the unit g0 is given in: with g0 = 2 the heat of the first collision, Q_1 = -0.323, read as Q_1/g0 (-0.162)."""
    pytest.importorskip("matplotlib")
    _io()
    from jaxthermo.apps import summary
    from jaxthermo.apps._plotting import pyplot
    from jaxthermo.apps.study import open_results

    out = tmp_path / "g0"
    args = ["ensemble", "--d", "3", "--g0", "2", "--theta", "0.3", "--sigma", "0", "--rho0", "excited"]
    assert cli.main([*args, "--steps", "2", "--configs", "8", "--out", str(out), "--no-progress", "--no-plot"]) == 0
    ds = open_results(out / "results.nc")
    # sigma = 0: partial swap of diagonal states, rho_1 = cos^2 theta rho_0 + sin^2 theta tau; Q_1 = Delta U_S
    p = np.exp(-1.0 * 2.0 * np.array([-1.0, 0.0, 1.0]))  # tau at beta g0 = 2
    q1 = np.sin(0.3) ** 2 * 2.0 * (float(p @ np.array([-1.0, 0.0, 1.0]) / p.sum()) - 1.0)
    fig = summary._ensemble(pyplot(), ds)
    heat = fig.axes[0].get_lines()[1]
    np.testing.assert_allclose(heat.get_ydata()[0], q1, rtol=1e-12)
    for ax in fig.axes:
        for label in (ax.get_xlabel(), ax.get_ylabel()):
            assert "/ g0" not in label and "[g0]" not in label and "1/g0" not in label, label
    assert "unit of g0" in fig.axes[0].get_ylabel() and "unit of g0" in fig.axes[1].get_ylabel()
    pyplot().close(fig)


def test_no_plot_removes_the_summary_of_an_earlier_run(tmp_path, capsys):
    """`jaxthermo run --no-plot` replaced results.nc but left an earlier run's summary.png beside it: a figure
    of other numbers (say θ = 0.2) next to results of θ = 0.5."""
    _io()
    out = tmp_path / "o"
    out.mkdir()
    (out / "summary.png").write_bytes(b"an earlier run's figure")
    config = tmp_path / "s.toml"
    config.write_text(f"[study]\nout = {str(out)!r}\n[run]\nn_steps = 2\nn_configs = 8\n")
    assert cli.main(["run", str(config), "--no-progress", "--no-plot"]) == 0
    assert sorted(p.name for p in out.iterdir() if not p.name.endswith(".lock")) == [
        "config.resolved.toml",
        "results.nc",
    ]
    assert "removed" in capsys.readouterr().out


def test_repeated_alphas_are_refused(tmp_path, capsys):
    """[run] alphas = [1.0, 1.0] ran and wrote results.nc with alpha = [1, 1] (ds.sel(alpha=1.0) gave two columns)."""
    config = tmp_path / "s.toml"
    config.write_text(f"[study]\nout = {str(tmp_path / 'o')!r}\n[run]\nalphas = [1, 2.0, 1.0]\n")
    assert cli.main(["run", str(config), "--no-progress", "--no-plot"]) == 2
    err = capsys.readouterr().err
    assert "[run] alphas" in err and "1.0 given more than once" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "study, axis",
    [("sweep", "[grid]\ntheta = [0.1, 0.2, 0.1]"), ("coherent_scan", "[scan]\nlam = [0.0, 0.1, 0.0]")],
)
def test_repeated_grid_and_scan_values_are_refused(study, axis, tmp_path, capsys):
    """[grid] theta = [0.1, 0.2, 0.1] ran the point twice and wrote theta = [0.1, 0.2, 0.1] as the coordinate
    of results.nc (ds.sel(theta=0.1) gave two points); likewise [scan]."""
    config = tmp_path / "s.toml"
    config.write_text(f'[study]\nstudy = "{study}"\nout = {str(tmp_path / "o")!r}\n{axis}\n')
    assert cli.main(["run", str(config), "--no-progress", "--no-plot"]) == 2
    assert "given more than once" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_coherent_scan_over_tau_is_refused_because_the_rates_do_not_depend_on_it(tmp_path, capsys):
    """[scan] tau = [0.01, 0.02] ran and gave the same numbers at every τ (the steady state of the
    continuous-time master equation, docs/coherent.md §3): a scan that looked like a result."""
    rates = []
    for tau in (0.01, 0.3):  # the reason, from the library: the rates at two τ agree
        m = jt.qubit_example(omega=1.0, g=1.0, beta=1.0, lam=0.2, tau=tau)
        rho = jt.steady_state(m)
        rates.append([float(jt.coherent_work_rate(m, rho)), float(jt.entropy_production_rate(m, rho))])
    np.testing.assert_allclose(rates[0], rates[1], rtol=1e-12)
    config = tmp_path / "s.toml"
    config.write_text(
        f'[study]\nstudy = "coherent_scan"\nout = {str(tmp_path / "o")!r}\n[scan]\ntau = [0.01, 0.3]\nlam = [0.1]\n'
    )
    assert cli.main(["run", str(config), "--no-progress", "--no-plot"]) == 2
    err = capsys.readouterr().err
    assert "[scan] tau" in err and "[coherent] tau" in err
    assert not (tmp_path / "o").exists()


def test_divergence_every_is_a_run_key(tmp_path, capsys):
    """A coherent qutrit's frozen averages <D_α(ρ_S|r ‖ τ_S)> are reported every 20th collision by default
    (NaN between, docs/ensemble.md); a study file could not ask for every collision ('unknown key'). Now
    [run] divergence_every; checked at σ = 0 (one trajectory) against NumPy: ρ_r = Tr_R[U ρ_{r-1}⊗τ U†],
    U = cos θ 1 + i sin θ SWAP, D_1 = Tr ρ (log ρ − log τ_S)."""
    _io()
    from jaxthermo.apps.study import open_results

    out = tmp_path / "o"
    config = tmp_path / "s.toml"
    config.write_text(
        f"[study]\nout = {str(out)!r}\n[model]\nd = 3\ntheta = 0.3\n[distribution]\nsigma = 0.0\n"
        '[initial_state]\nname = "populations"\npopulations = [0.5, 0.3, 0.2]\nphases = [0.0, 1.0, 2.0]\n'
        "[run]\nn_steps = 3\nn_configs = 4\nalphas = [1.0]\ndivergence_every = 1\n"
    )
    assert cli.main(["run", str(config), "--no-progress", "--no-plot"]) == 0
    got = open_results(out / "results.nc").mean_divergence.values[:, 0]
    p = np.exp(-np.array([-1.0, 0.0, 1.0]))
    q = p / p.sum()
    tau = np.diag(q)
    swap = np.zeros((9, 9))
    for a in range(3):
        for b in range(3):
            swap[3 * b + a, 3 * a + b] = 1.0
    u = np.cos(0.3) * np.eye(9) + 1j * np.sin(0.3) * swap
    psi = np.sqrt([0.5, 0.3, 0.2]) * np.exp(1j * np.array([0.0, 1.0, 2.0]))
    rho, expected = np.outer(psi, psi.conj()), []
    for _ in range(4):
        w = np.clip(np.linalg.eigvalsh(rho), 0, None)
        expected.append(float(np.sum(w[w > 0] * np.log(w[w > 0])) - np.real(np.diag(rho)) @ np.log(q)))
        joint = u @ np.kron(rho, tau) @ u.conj().T
        rho = np.einsum("ajbj->ab", joint.reshape(3, 3, 3, 3))
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    config.write_text(config.read_text().replace("divergence_every = 1", "divergence_every = 0"))
    assert cli.main(["run", str(config), "--no-progress", "--no-plot"]) == 2
    assert "[run] divergence_every = 0: must be > 0" in capsys.readouterr().err


def test_sweep_summary_over_n_steps_has_whole_collision_ticks():
    """A grid over n_steps = [2, 6] drew N ticks 2.0, 2.5, 3.0 … (half collisions) on summary.png (synthetic
    Dataset: no computing)."""
    pytest.importorskip("matplotlib")
    xr = pytest.importorskip("xarray")
    from jaxthermo.apps import summary
    from jaxthermo.apps._plotting import pyplot

    work = np.ones((2, 6)) * 1e-3
    ds = xr.Dataset(
        {
            "mean_cumulative_work": (("n_steps", "collision"), work),
            "var_cumulative_work": (("n_steps", "collision"), work**2),
            "mean_state_divergence": (("n_steps", "step", "alpha"), np.full((2, 7, 1), 0.1)),
        },
        coords={"n_steps": [2, 6], "alpha": [1.0]},
        attrs={"study": "sweep", "grid": "n_steps", "n_configs": 100},
    )
    fig = summary._sweep(pyplot(), ds)
    fig.canvas.draw()
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
    pyplot().close(fig)


def test_a_missing_initial_state_file_says_where_a_relative_path_is_read(tmp_path, monkeypatch, capsys):
    """[initial_state] file = "rho.npy" beside the study file in sub/ failed with 'No such file' and no word that
    the path is read from the working directory, not from the study file's folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    np.save(tmp_path / "sub" / "rho.npy", np.diag([0.3, 0.7]))
    config = tmp_path / "sub" / "s.toml"
    config.write_text('[initial_state]\nname = "file"\nfile = "rho.npy"\n[run]\nn_steps = 2\nn_configs = 8\n')
    assert cli.main(["run", str(config), "--out", str(tmp_path / "o"), "--no-progress", "--no-plot"]) == 2
    err = capsys.readouterr().err
    assert "[initial_state] file = 'rho.npy'" in err and f"working directory {tmp_path}" in err


def test_summary_title_names_the_exact_coupling():
    """[model] coupling = "exact", g_int = 3 drew a summary.png whose title read as the partial swap's
    ('d = 2, β = 1, g0 = 1, θ = 0.4, …'): nothing said which collision ran."""
    xr = pytest.importorskip("xarray")
    from jaxthermo.apps import summary

    attrs = {"model_d": 2, "model_theta": 0.4, "model_coupling": "ExactUnitary", "model_coupling_g_int": 3.0}
    assert "exact two-body unitary, g_int = 3" in summary._params(xr.Dataset(attrs=attrs))
    attrs["model_coupling"] = "PartialSwap"
    assert "exact" not in summary._params(xr.Dataset(attrs=attrs))


def test_figure_names_are_taken_once():
    """`jaxthermo figures --only fig4,fig4` computed and wrote fig4 twice."""
    from jaxthermo.apps.figures import figure_names

    assert figure_names("fig4, fig4,fig1") == ("fig4", "fig1")
