"""Multi-value returns of model A are NamedTuples with the package's energetics vocabulary, and
old unpacking keeps working; one Histogram type with density/stderr arrays."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt

KEY = jax.random.PRNGKey(3)


def _model(**kw):
    return jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.1), **kw)


def _rho():
    return jnp.array([[0.7, 0.1 - 0.05j], [0.1 + 0.05j, 0.3]])


def _check_energetics(e):
    assert isinstance(e, jt.Energetics)
    assert e._fields == ("work", "heat", "energy_change")
    np.testing.assert_allclose(e.energy_change, e.work + e.heat, atol=1e-14)


@pytest.mark.parametrize("coupling", [jt.PartialSwap(), jt.ExactUnitary(5.0)])
def test_collision_step_and_collide(coupling):
    model, rho = _model(coupling=coupling), _rho()
    out = jt.collision_step(model, rho, 0.07)
    assert isinstance(out, jt.CollisionStep) and out._fields == ("state", "energetics")
    _check_energetics(out.energetics)
    assert out.work == out.energetics.work and out.heat == out.energetics.heat
    rho_new, e = jt.collide(model, rho, 0.07)  # old unpacking
    np.testing.assert_allclose(rho_new, out.state, atol=1e-15)
    np.testing.assert_allclose(e.work, out.work, atol=1e-16)
    # an explicit θ overrides model.theta (θ schedules)
    np.testing.assert_allclose(jt.collision_step(model.replace(theta=0.9), rho, 0.07, 0.3).state, out.state, atol=1e-15)
    with pytest.raises(ValueError, match="theta"):
        jt.collision_step(model.replace(theta=jnp.array([0.1, 0.2])), rho, 0.07)


def test_heat_is_into_the_system():
    """Q = −Tr[(τ' − τ) H_r] (given up by the reservoir qudit) = ΔU − W: heat into the system."""
    model, rho = _model(coupling=jt.ExactUnitary(50.0)), _rho()
    res = jt.inhomogeneous.collide_generic(model, rho, 0.07)
    h_r = jt.inhomogeneous.reservoir_hamiltonian(model, 0.07)
    tau = jt.inhomogeneous.reservoir_state(model, 0.07)
    np.testing.assert_allclose(res.energetics.heat, -jnp.real(jnp.trace((res.ancilla - tau) @ h_r)), atol=1e-14)


def test_collide_closed_form_and_mean_collision():
    model, rho = _model(), _rho()
    cf = jt.inhomogeneous.collide_closed_form(model, rho, 0.05)
    assert isinstance(cf, jt.CollisionStep)
    _check_energetics(cf.energetics)
    mc = jt.inhomogeneous.mean_collision(model, rho)
    assert isinstance(mc, jt.CollisionStep)
    _check_energetics(mc.energetics)
    rho_bar, e = mc  # old unpacking
    np.testing.assert_allclose(mc[1].work, jt.mean_work(model, rho), atol=1e-16)
    np.testing.assert_allclose(rho_bar, jt.averaged_trajectory(model, rho, 1).states[1], atol=1e-15)


def test_single_collision_samples_named():
    model, rho = _model(), _rho()
    out = jt.single_collision_samples(model, rho, KEY, 500)
    assert isinstance(out, jt.CollisionSamples) and out._fields == ("deltas", "energetics")
    _check_energetics(out.energetics)
    deltas, e = out
    assert deltas.shape == (500,) and e.work.shape == (500,)
    np.testing.assert_allclose(out.heat, e.heat)
    step = jt.collision_step(model, rho, deltas[7])
    np.testing.assert_allclose(e.work[7], step.work, rtol=1e-12, atol=1e-16)
    with pytest.raises(ValueError, match="n="):
        jt.single_collision_samples(model, rho, KEY, 0)


def test_one_histogram_type():
    model, rho = _model(), _rho()
    hist = jt.single_collision_histogram(model, rho, KEY, 20_000, bins=40, y_range=(-0.05, 0.02))
    from jaxthermo.ensemble import Histogram

    assert type(hist) is jt.Histogram is jt.inhomogeneous.Histogram is Histogram
    assert hist.total == 20_000 and hist.counts.shape == (40,)
    assert hist.underflow + hist.overflow > 0  # the range cuts the tails
    widths = np.diff(hist.edges)
    p = hist.counts / 20_000
    np.testing.assert_allclose(hist.density, p / widths, rtol=1e-14)
    np.testing.assert_allclose(hist.stderr, np.sqrt(p * (1 - p) / 20_000) / widths, rtol=1e-14)
    np.testing.assert_allclose(np.sum(hist.density * widths), 1 - (hist.underflow + hist.overflow) / 20_000)
    with pytest.raises(ValueError, match="bins"):
        jt.single_collision_histogram(model, rho, KEY, 100, bins=0)


def test_other_multi_value_returns_are_named():
    model = _model()
    params = jt.inhomogeneous.reservoir_parameters(model, 0.1)
    assert isinstance(params, jt.inhomogeneous.ReservoirParameters)
    beta_r, g_r = params  # old unpacking
    np.testing.assert_allclose((params.beta, params.g), (1.0, 1.1))
    dq = jt.inhomogeneous.population_derivatives(model)
    assert isinstance(dq, jt.inhomogeneous.PopulationDerivatives)
    np.testing.assert_allclose(dq.first, jt.inhomogeneous.population_derivatives_closed_form(model), rtol=1e-12)
    sup = jt.work_support(model, jnp.diag(jnp.array([0.7, 0.3])))
    assert isinstance(sup, jt.inhomogeneous.Support) and np.isinf(sup.upper)
    lo, hi = jt.heat_support(model, jnp.diag(jnp.array([0.7, 0.3])))
    assert np.isinf(lo) or np.isinf(hi)
