"""jt.ensemble(..., wrt=...): streamed sensitivities against jax.grad of the exact quadrature route
(within 5 standard errors), against jax.grad(jt.ensemble_mean) on the same configurations (to
rounding), against central finite differences on common random numbers, and identical across chunk
sizes and device counts."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble._sampling import sample_chunk

WRT = ("theta", "beta", "g0", "sigma")


def _rebuild(model, p):
    return model.replace(theta=p[0], beta=p[1], g0=p[2], distribution=jt.Gaussian(p[3]))


def _coherent(d):
    rho = np.asarray(jt.thermal_state(d, 0.3, 1.0), complex)
    rho[0, 1] = 0.08 + 0.03j
    rho[1, 0] = np.conj(rho[0, 1])
    return jnp.asarray(rho)


CASES = [
    (2, "hamiltonian", "thermal", False),
    (3, "hamiltonian", "coherent", False),
    (2, "temperature", "coherent", True),
    (3, "temperature", "thermal", True),
]


@pytest.mark.parametrize("d,kind,state,schedule", CASES)
def test_sensitivities_agree_with_the_exact_quadrature_route(d, kind, state, schedule):
    n_steps, n_configs = 4, 1500
    theta = jnp.linspace(0.3, 0.7, n_steps) if schedule else 0.5
    model = jt.InhomogeneousReservoir(d, 1.0, 1.0, theta, kind=kind, distribution=jt.Gaussian(0.2))
    rho0 = _coherent(d) if state == "coherent" else jt.thermal_state(d, 0.4, 1.0)
    res = jt.ensemble(model, rho0, n_steps, n_configs, seed=2, alphas=(), wrt=WRT)
    params = (model.theta, 1.0, 1.0, 0.2)
    exact = jax.jacfwd(lambda p: jt.averaged_trajectory(_rebuild(model, p), rho0, n_steps))(params)
    for k, name in enumerate(WRT):
        sens = res.sensitivity[name]
        for field in ("work", "heat", "energy_change"):
            want = np.asarray(getattr(exact, field)[k])  # (N,) or (N, N) for the schedule
            got = getattr(sens, f"mean_{field}")
            assert got.shape == want.shape, (name, field)
            assert np.all(np.abs(got - want) <= 5 * sens.standard_error(field) + 1e-12), (name, field)
        assert sens.mean_state.shape == res.mean_state.shape + np.shape(params[k])


def test_sensitivity_equals_grad_of_ensemble_mean_on_the_same_configurations():
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.4, distribution=jt.Gaussian(0.1))
    rho0 = _coherent(2)
    res = jt.ensemble(model, rho0, 6, 700, seed=9, alphas=(), wrt=WRT)
    params = (0.4, 1.0, 1.0, 0.1)
    for obs, get in (("total_work", lambda s: s.mean_total_work), ("total_heat", lambda s: np.sum(s.mean_heat))):
        g = jax.grad(lambda p: jt.ensemble_mean(_rebuild(model, p), rho0, 6, 700, seed=9, observable=obs))(params)
        for k, name in enumerate(WRT):
            np.testing.assert_allclose(get(res.sensitivity[name]), g[k], rtol=1e-10, atol=1e-15)
    se = res.sensitivity["theta"].standard_error("total_work")
    assert np.isfinite(se) and se > 0


# the sensitivity fields compared between two routes to the same configurations
COMPARED_FIELDS = (
    "mean_work",
    "var_work",
    "mean_cumulative_work",
    "mean_state",
    "mean_divergence",
    "mean_state_divergence",
    "mean_state_trace_distance",
)


def test_identical_across_chunk_sizes_and_device_counts_and_finite_differences():
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.4, distribution=jt.Gaussian(0.1))
    rho0 = _coherent(2)
    kw = dict(alphas=(2.0,), wrt=("theta", "sigma"))
    a = jt.ensemble(model, rho0, 5, 300, seed=4, chunk_size=300, **kw)
    b = jt.ensemble(model, rho0, 5, 300, seed=4, chunk_size=64, devices=jax.devices()[:1], **kw)
    for name in ("theta", "sigma"):
        for field in COMPARED_FIELDS:
            np.testing.assert_allclose(
                getattr(a.sensitivity[name], field), getattr(b.sensitivity[name], field), rtol=1e-9, atol=1e-14
            )
    # chain rule for the mean-state functionals: central differences on common random numbers
    h = 1e-5
    plus = jt.ensemble(model.replace(theta=0.4 + h), rho0, 5, 300, seed=4, alphas=(2.0,))
    minus = jt.ensemble(model.replace(theta=0.4 - h), rho0, 5, 300, seed=4, alphas=(2.0,))
    for field in (
        "mean_state",
        "mean_divergence",
        "mean_state_divergence",
        "mean_state_trace_distance",
        "mean_state_thermal_trace_distance",
        "mean_cumulative_work",
    ):
        fd = (getattr(plus, field) - getattr(minus, field)) / (2 * h)
        np.testing.assert_allclose(getattr(a.sensitivity["theta"], field), fd, rtol=1e-5, atol=1e-9)


def test_delta_sensitivity_is_the_mean_per_configuration_gradient():
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.5, distribution=jt.Gaussian(0.2))
    rho0 = jt.thermal_state(2, 0.4, 1.0)
    res = jt.ensemble(model, rho0, 5, 200, seed=1, alphas=(1.0, float("inf")), wrt=("deltas",))
    deltas = sample_chunk(model.distribution, jax.random.key(1), jnp.arange(200, dtype=jnp.uint32), 5, jnp.float64)

    def final(dl):
        traj = jt.trajectory(model, rho0, dl)
        return jnp.sum(traj.work), jt.free_energies(model, traj.states[-1], (1.0, float("inf")))

    gw, gf = jax.vmap(jax.jacrev(final))(deltas)
    ds = res.delta_sensitivity
    np.testing.assert_allclose(ds.mean_work, gw.mean(0), rtol=1e-10)
    np.testing.assert_allclose(ds.var_work, gw.var(0, ddof=1), rtol=1e-8)
    np.testing.assert_allclose(ds.mean_free_energy, np.swapaxes(gf.mean(0), 0, 1), rtol=1e-9, atol=1e-14)
    assert res.sensitivity == {}


def test_checkpoint_resume_and_errors(tmp_path):
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.4, distribution=jt.Gaussian(0.1))
    rho0 = jt.thermal_state(2, 0.4, 1.0)
    ck = tmp_path / "run.npz"
    kw = dict(alphas=(), wrt=("theta",), chunk_size=100, checkpoint=ck)
    first = jt.ensemble(model, rho0, 4, 300, seed=3, **kw)
    again = jt.ensemble(model, rho0, 4, 300, seed=3, **kw)
    assert again.info["chunks_resumed"] == 3
    np.testing.assert_array_equal(first.sensitivity["theta"].mean_work, again.sensitivity["theta"].mean_work)
    with pytest.raises(ValueError, match="different run"):
        jt.ensemble(model, rho0, 4, 300, seed=3, alphas=(), wrt=("beta",), chunk_size=100, checkpoint=ck)
    with pytest.raises(ValueError, match="wrt"):
        jt.ensemble(model, rho0, 4, 10, wrt=("temperature",))


@pytest.mark.parametrize("d,kind", [(2, "hamiltonian"), (3, "temperature")])
def test_plain_statistics_with_wrt_equal_the_plain_run(d, kind):
    """One pass: with ``wrt`` the plain statistics come from the primal of the tangent scan (the fused
    qubit collision for d = 2) and equal those of the run without ``wrt`` to rounding."""
    model = jt.InhomogeneousReservoir(d, 1.0, 1.0, 0.4, kind=kind, distribution=jt.Gaussian(0.1))
    rho0 = _coherent(d)
    kw = dict(alphas=(2.0, float("inf")), work_range=(-1.0, 1.0), collision_work_range=(-0.5, 0.5))
    plain = jt.ensemble(model, rho0, 5, 200, seed=5, **kw)
    both = jt.ensemble(model, rho0, 5, 200, seed=5, wrt=("theta", "sigma"), **kw)
    for field in (
        "mean_work",
        "var_work",
        "mean_heat",
        "mean_cumulative_work",
        "var_cumulative_work",
        "mean_state",
        "mean_divergence",
        "var_divergence",
    ):
        np.testing.assert_allclose(getattr(both, field), getattr(plain, field), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(both.work_histogram.counts, plain.work_histogram.counts)


def test_sweep_with_wrt_equals_per_point_ensembles():
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.4, distribution=jt.Gaussian(0.1))
    rho0 = _coherent(2)
    kw = dict(alphas=(2.0,), chunk_size=128, wrt=("theta", "sigma", "deltas"))
    sw = jt.sweep(model, rho0, 4, 250, seed=6, grid={"theta": [0.3, 0.6], "sigma": [0.05, 0.2]}, **kw)
    for theta in (0.3, 0.6):
        for sigma in (0.05, 0.2):
            point = model.replace(theta=theta, distribution=jt.Gaussian(sigma))
            want = jt.ensemble(point, rho0, 4, 250, seed=6, **kw)
            got = sw.at(theta=theta, sigma=sigma)
            for name in ("theta", "sigma"):
                for field in COMPARED_FIELDS:
                    np.testing.assert_allclose(
                        getattr(got.sensitivity[name], field),
                        getattr(want.sensitivity[name], field),
                        rtol=1e-10,
                        atol=1e-14,
                    )
            np.testing.assert_allclose(
                got.delta_sensitivity.mean_work, want.delta_sensitivity.mean_work, rtol=1e-10, atol=1e-14
            )
    grid_total = sw.stack_sensitivity("theta", "mean_total_work")
    assert grid_total.shape == (2, 2)
    assert grid_total[1, 0] == sw.at(theta=0.6, sigma=0.05).sensitivity["theta"].mean_total_work
    with pytest.raises(ValueError, match="name"):
        sw.stack_sensitivity("beta", "mean_work")


@pytest.mark.parametrize("d,schedule", [(2, False), (3, True)])
def test_sensitivity_equals_jacobian_of_frozen_ensemble_mean_on_the_same_configurations(d, schedule):
    """The streamed tangents and forward-mode AD of the frozen-configuration route (the reference
    ``trajectory`` per configuration, same draws ``fold_in(key(seed), i)``) agree to rounding."""
    n_steps, n_configs, seed = 4, 300, 8
    theta = jnp.linspace(0.3, 0.6, n_steps) if schedule else 0.4
    model = jt.InhomogeneousReservoir(d, 1.0, 1.0, theta, distribution=jt.Gaussian(0.15))
    rho0 = _coherent(d)
    res = jt.ensemble(model, rho0, n_steps, n_configs, seed=seed, alphas=(), wrt=WRT)
    params = (model.theta, 1.0, 1.0, 0.15)

    def frozen(p):
        obs = lambda t: (t.work, t.heat, t.states[1:])
        return jt.frozen_ensemble_mean(
            _rebuild(model, p), rho0, jax.random.key(seed), n_configs, n_steps, obs, chunk_size=128
        ).mean

    jac = jax.jacfwd(frozen, holomorphic=False)(params)
    for k, name in enumerate(WRT):
        sens = res.sensitivity[name]
        np.testing.assert_allclose(sens.mean_work, jac[0][k], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(sens.mean_heat, jac[1][k], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(sens.mean_state[1:], jac[2][k], rtol=1e-10, atol=1e-14)


def test_divergence_sensitivity_reported_where_the_divergence_is():
    """With the default stride of coherent qutrits (D_α after r = 20 and r = N only), the sensitivity
    of ⟨D_α⟩ is NaN exactly where ⟨D_α⟩ itself is, and finite (equal to central differences) where
    it is reported."""
    model = jt.InhomogeneousReservoir(3, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.1))
    rho0 = _coherent(3)
    res = jt.ensemble(model, rho0, 24, 200, seed=3, wrt=("theta",))
    assert res.info["divergence_every"] == 20
    sens = np.asarray(res.sensitivity["theta"].mean_divergence)
    np.testing.assert_array_equal(np.isnan(sens), np.isnan(np.asarray(res.mean_divergence)))
    assert np.isnan(sens[5]).all() and np.isfinite(sens[[0, 20, 24]]).all()
    h = 1e-5
    up, down = (jt.ensemble(model.replace(theta=0.3 + s * h), rho0, 24, 200, seed=3) for s in (1, -1))
    fd = (np.asarray(up.mean_divergence) - np.asarray(down.mean_divergence)) / (2 * h)
    np.testing.assert_allclose(sens[[20, 24]], fd[[20, 24]], rtol=1e-6)
