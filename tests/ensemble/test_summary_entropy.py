"""The entropy column of ``jaxthermo run``'s summary page: its curves against the same configurations' trajectories
(the system's entropy change ⟨S(ρ_S|r)⟩ − S(ρ0) by von Neumann entropies of every state, an independent route to
the page's production + flow), the strided case and results without the entropy fields."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt

pytest.importorskip("matplotlib")
pytest.importorskip("xarray")

from jaxthermo.apps import summary
from jaxthermo.apps._plotting import pyplot

N, N_CONFIGS, SEED = 8, 96, 5


def _page(res, model, drop=()):
    ds = res.to_xarray(model=model, attrs={"study": "ensemble"}).drop_vars(list(drop))
    return summary._ensemble(pyplot(), ds)


def _lines(axis):
    return {line.get_label(): line.get_data() for line in axis.get_lines() if not line.get_label().startswith("_")}


@pytest.mark.parametrize("kind", ["hamiltonian", "temperature"])
def test_entropy_balance_drawn_is_the_systems_entropy_change(kind):
    """Black curve: ⟨ΔS_1 + … + ΔS_r⟩ + ⟨β_1 Q_1 + … + β_r Q_r⟩ from the result; against the mean of
    S(ρ_S|r) − S(ρ0) over trajectories of the same configurations (rounding ~1e-15 on values ~1e-1). The flow
    curves are the result's flow and its running sum, the production curve its ⟨ΔS_r⟩, all starting at 0 at r = 0."""
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, kind=kind, distribution=jt.Gaussian(0.1))
    rho0 = np.array([[0.7, 0.25], [0.25, 0.3]], complex)
    res = jt.ensemble(model, rho0, N, N_CONFIGS, seed=SEED)
    keys = [jax.random.fold_in(jax.random.key(SEED), i) for i in range(N_CONFIGS)]
    draws = jnp.stack([model.distribution.sample(k, (N,)) for k in keys])
    states = jax.vmap(lambda dl: jt.trajectory(model, rho0, dl).states)(draws)  # (n, N + 1, 2, 2)
    entropy = np.asarray(jt.von_neumann_entropy(states))
    expected = (entropy - entropy[:, :1]).mean(0)  # r = 0 … N
    fig = _page(res, model)
    per_collision, accumulated = fig.axes[4], fig.axes[5]
    acc = _lines(accumulated)
    x, y = acc["system ⟨S(ρ_S|r)⟩ − S(ρ0)"]
    np.testing.assert_array_equal(x, np.arange(N + 1))
    np.testing.assert_allclose(y, expected, rtol=1e-11, atol=1e-14)
    assert np.max(np.abs(expected)) > 0.05  # a change to see, not zeros compared with zeros
    np.testing.assert_allclose(acc["flow ⟨β_1 Q_1 + … + β_r Q_r⟩"][1][1:], np.cumsum(res.mean_entropy_flow))
    np.testing.assert_allclose(acc["production ⟨ΔS_1 + … + ΔS_r⟩"][1][1:], res.mean_cumulative_entropy_production)
    per = _lines(per_collision)
    np.testing.assert_allclose(per["flow ⟨β_r Q_r⟩ (±2 s.e. shaded)"][1], res.mean_entropy_flow)
    np.testing.assert_allclose(per["production ⟨ΔS_r⟩"][1], res.mean_entropy_production)
    assert per_collision.get_xlabel() == "collision r" and "nats" in per_collision.get_ylabel()
    pyplot().close(fig)


def test_strided_production_is_drawn_where_evaluated_and_a_missing_one_is_said():
    """divergence_every = 4: the running sum at r = 0, 4, 8 only (points, no line through skipped rows), no
    per-collision production (no two consecutive evaluated rows) and the x label says why; without α = 1 the
    flow alone, the label saying what the production needs; results without the entropy fields keep 2 × 2 panels."""
    model = jt.InhomogeneousReservoir(3, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.2))
    rho0 = np.diag([0.6, 0.3, 0.1]).astype(complex) + 0.05 * (1 - np.eye(3))
    res = jt.ensemble(model, rho0, N, 64, seed=SEED, divergence_every=4)
    fig = _page(res, model)
    per, acc = _lines(fig.axes[4]), _lines(fig.axes[5])
    assert not any(label.startswith("production") for label in per)
    assert "D_1 every 4 collisions only" in fig.axes[4].get_xlabel()
    x, y = acc["production ⟨ΔS_1 + … + ΔS_r⟩"]
    np.testing.assert_array_equal(x, [0, 4, 8])
    np.testing.assert_allclose(y[1:], res.mean_cumulative_entropy_production[[3, 7]])
    pyplot().close(fig)
    plain = jt.ensemble(model, rho0, N, 64, seed=SEED, alphas=(2.0,))
    fig = _page(plain, model)
    assert set(_lines(fig.axes[4])) == {"flow ⟨β_r Q_r⟩ (±2 s.e. shaded)"}
    assert "needs D_1 (α = 1 among the alphas)" in fig.axes[4].get_xlabel()
    pyplot().close(fig)
    old = _page(
        res,
        model,
        drop=("mean_entropy_flow", "var_entropy_flow", "mean_entropy_production", "mean_cumulative_entropy_production"),
    )
    assert len(old.axes) == 4
    pyplot().close(old)


def test_printed_total_has_its_standard_error_and_an_older_file_its_mean():
    """`jaxthermo run`'s line: ⟨ΔS_1 + … + ΔS_N⟩ ± √(var/n) of each configuration's total; a results file written
    before the total was streamed prints the running sum at r = N as a mean only."""
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.1))
    res = jt.ensemble(model, np.array([[0.7, 0.25], [0.25, 0.3]], complex), N, N_CONFIGS, seed=SEED)
    ds = res.to_xarray(model=model, attrs={"study": "ensemble"})
    line = next(x for x in summary.mean_lines(ds) if "ΔS_1" in x)
    se = res.standard_error("total_entropy_production")
    assert f"= {res.mean_total_entropy_production:.4g} ± {se:.2g} nat (entropy production)" in line, line
    old = ds.drop_vars(["mean_total_entropy_production", "var_total_entropy_production"])
    line = next(x for x in summary.mean_lines(old) if "ΔS_1" in x)
    assert f"= {res.mean_cumulative_entropy_production[-1]:.4g} nat (entropy production; mean only)" in line, line


def _total_entropy_production(model, rho0, n_configs, theta):
    """Each configuration's ΔS_1 + … + ΔS_N = S(ρ_S|N) − S(ρ0) − β Q_N (a Hamiltonian inhomogeneity: every
    reservoir qudit at the model's β) from von Neumann entropies of its trajectory, at θ."""
    model = model.replace(theta=theta)
    keys = [jax.random.fold_in(jax.random.key(SEED), i) for i in range(n_configs)]
    draws = jnp.stack([model.distribution.sample(k, (N,)) for k in keys])
    run = jax.vmap(lambda dl: jt.trajectory(model, rho0, dl))(draws)
    entropy = np.asarray(jt.von_neumann_entropy(run.states))
    return entropy[:, -1] - entropy[:, 0] - model.beta * np.asarray(run.heat).sum(1)


def test_sweep_page_draws_the_total_entropy_production_of_the_same_configurations():
    """The sweep page's third panel: ⟨ΔS_1 + … + ΔS_N⟩ over θ, its ±2 s.e. band and the black bars of slope
    ∂⟨ΔS_1 + … + ΔS_N⟩/∂θ (wrt, each configuration's derivative streamed) against the same configurations' trajectories: the mean and unbiased spread of
    S(ρ_S|N) − S(ρ0) − βQ_N (rtol 1e-10), the slope against their central difference in θ (h = 1e-5, rtol 1e-6).
    Results without the streamed total keep two panels."""
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.2))
    rho0 = np.array([[0.7, 0.25], [0.25, 0.3]], complex)
    thetas, n = (0.2, 0.5), 48
    sw = jt.sweep(model, rho0, N, n, seed=SEED, grid={"theta": list(thetas)}, wrt=("theta",))
    ds = sw.to_xarray(model=model, attrs={"study": "sweep"})
    fig = summary._sweep(pyplot(), ds)
    assert len(fig.axes) == 3
    panel = fig.axes[2]
    assert panel.get_xlabel() == "θ" and panel.get_ylabel() == "⟨ΔS_1 + … + ΔS_N⟩ (nats)"
    (curve,) = [line for line in panel.get_lines() if line.get_marker() == "o"]
    totals = np.array([_total_entropy_production(model, rho0, n, t) for t in thetas])  # (θ, configuration)
    np.testing.assert_allclose(curve.get_ydata(), totals.mean(1), rtol=1e-10)
    assert np.all(totals.mean(1) > 0.01)  # a production to see, not zeros compared with zeros
    (band,) = panel.collections
    lower, upper = band.get_paths()[0].vertices[:, 1].min(), band.get_paths()[0].vertices[:, 1].max()
    half = 2 * totals.std(1, ddof=1) / np.sqrt(n)
    np.testing.assert_allclose([lower, upper], [totals.mean(1)[0] - half[0], totals.mean(1)[1] + half[1]], rtol=1e-9)
    bars = [line for line in panel.get_lines() if line.get_color() == "k"]
    slopes = [np.diff(b.get_ydata())[0] / np.diff(b.get_xdata())[0] for b in bars]
    h = 1e-5
    central = [
        (
            _total_entropy_production(model, rho0, n, t + h).mean()
            - _total_entropy_production(model, rho0, n, t - h).mean()
        )
        / (2 * h)
        for t in thetas
    ]
    np.testing.assert_allclose(slopes, central, rtol=1e-6)
    assert "∂⟨ΔS_1 + … + ΔS_N⟩/∂θ" in panel.get_title()
    pyplot().close(fig)
    old = summary._sweep(pyplot(), ds.drop_vars(["mean_total_entropy_production", "var_total_entropy_production"]))
    assert len(old.axes) == 2
    pyplot().close(old)


def test_page_of_a_run_with_wrt_states_the_total_production_derivative():
    """Under the title, after the ∂⟨W_N⟩ line: ∂⟨ΔS_1 + … + ΔS_N⟩/∂θ ± 1 s.e. of the streamed per-configuration
    derivative, the "(± 1 standard error)" said once at the end; a results file without it keeps the ∂⟨W_N⟩ line."""
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.1))
    res = jt.ensemble(model, np.array([[0.7, 0.25], [0.25, 0.3]], complex), N, N_CONFIGS, seed=SEED, wrt=("theta",))
    sens = res.sensitivity["theta"]
    fig = _page(res, model)
    lines = fig._suptitle.get_text().split("\n")
    se = float(sens.standard_error("total_entropy_production"))
    expected = (
        f"∂⟨ΔS_1 + … + ΔS_N⟩/∂θ = {sens.mean_total_entropy_production:.4g} ± {se:.2g} nat/rad (± 1 standard error)"
    )
    assert lines[-1] == expected and lines[-2].startswith("∂⟨W_N⟩/∂θ = "), lines
    pyplot().close(fig)
    drop = ("sensitivity_theta_mean_total_entropy_production", "sensitivity_theta_var_total_entropy_production")
    old = _page(res, model, drop=drop)
    last = old._suptitle.get_text().split("\n")[-1]
    assert last.startswith("∂⟨W_N⟩/∂θ = ") and last.endswith("(± 1 standard error)"), last
    pyplot().close(old)
