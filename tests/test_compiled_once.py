"""A parameter sweep in a Python loop compiles each function once (models A and C, frozen ensembles).

Called eagerly, the scans of ``trajectory`` and ``averaged_trajectory`` and the draws of
``single_collision_samples`` were traced and compiled again at every call (0.4–0.6 s each on a
2-core machine), so a 100-point sweep over β spent a minute compiling. Each function now runs a
program compiled once per model structure, shapes and dtype: after a first call, calls with other
parameter values (β, θ, σ, ρ_0, δ's) compile nothing. Counted with JAX's own compilation events.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
import jaxthermo.inhomogeneous as ih
from tests.helpers import counted_compilations


def _model(beta=1.0, theta=0.1, sigma=0.05, d=2, **kw):
    return jt.InhomogeneousReservoir(d, beta=beta, g0=1.0, theta=theta, distribution=jt.Gaussian(sigma), **kw)


def _rho(d=2, beta=0.5):
    return jt.thermal_state(d, beta, 1.0)


CALLS = {
    "trajectory": lambda m, rho: jt.trajectory(m, rho, jnp.linspace(-0.1, 0.1, 30)),
    "trajectory_without_states": lambda m, rho: jt.trajectory(m, rho, jnp.linspace(-0.1, 0.1, 30), store_states=False),
    "averaged_trajectory": lambda m, rho: jt.averaged_trajectory(m, rho, 30),
    "accumulated_mean_work": lambda m, rho: jt.accumulated_mean_work(m, rho, 30),
    "collision_number_scaling": lambda m, rho: jt.collision_number_scaling(m, rho, [10, 20], 1.0).accumulated_work,
    "single_collision_samples": lambda m, rho: jt.single_collision_samples(m, rho, jax.random.key(3), 500).work,
    "collide": lambda m, rho: jt.collide(m, rho, 0.05).state,
    "mean_collision": lambda m, rho: ih.mean_collision(m, rho).work,
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_parameter_sweep_compiles_nothing_after_the_first_call(name):
    call = CALLS[name]
    jax.block_until_ready(call(_model(), _rho()))  # compiles what the function needs
    with counted_compilations() as count:
        for beta, theta, sigma, rho_beta in [(1.3, 0.2, 0.07, 0.8), (0.7, 0.15, 0.03, 0.2)]:
            jax.block_until_ready(call(_model(beta, theta, sigma), _rho(beta=rho_beta)))
    assert count[0] == 0, f"{name}: {count[0]} compilations in a sweep after the first call"


def test_the_counter_sees_a_compilation():
    """The listener counts: a function never seen before compiles once (the test above can fail)."""
    with counted_compilations() as count:
        jax.jit(lambda x: jnp.sin(x) * 3.0 + 0.123456)(jnp.ones(7)).block_until_ready()
    assert count[0] >= 1


def test_the_compiled_programs_give_the_eager_numbers():
    """The compiled scans compute what the same steps give one by one (collide in a Python loop,
    and the averaged map ρ̄_r = τ̄ − (τ̄ − ρ_0) cos^{2r}θ of docs/inhomogeneous.md §3)."""
    model, rho0 = _model(1.2, 0.3, 0.2, d=3), _rho(3, 0.4)
    deltas = jnp.array([0.1, -0.2, 0.05, 0.3])
    traj = jt.trajectory(model, rho0, deltas)
    rho = rho0
    for r, delta in enumerate(deltas):
        rho, e = jt.collide(model, rho, delta)
        np.testing.assert_allclose(traj.states[r + 1], rho, atol=1e-15)
        np.testing.assert_allclose(traj.work[r], e.work, atol=1e-15)
    avg = jt.averaged_trajectory(model, rho0, 6)
    tau_bar = jt.averaged_reservoir_state(model)
    for r in range(7):
        np.testing.assert_allclose(avg.states[r], tau_bar - (tau_bar - rho0) * np.cos(0.3) ** (2 * r), atol=1e-14)


def test_frozen_vs_averaged_divergence_compiles_once_and_a_users_observable_is_traced_afresh():
    """The library's own observable (D_α to τ_S) reuses its compiled program across a β sweep; a
    user's observable is traced at every call, so what it reads is read again (a cached trace would
    keep a global's old value: a silent wrong number)."""
    rho0, key = _rho(), jax.random.key(5)
    run = lambda m: jt.frozen_vs_averaged_divergence(m, rho0, key, 64, 5, [0.5, 1.0], chunk_size=32).frozen_mean
    jax.block_until_ready(run(_model()))
    with counted_compilations() as count:
        jax.block_until_ready(run(_model(1.4, 0.2, 0.08)))
    assert count[0] == 0
    scale = {"value": 1.0}
    observable = lambda traj: jnp.sum(traj.work) * scale["value"]
    first = jt.frozen_ensemble_mean(_model(), rho0, key, 64, 5, observable, chunk_size=32).mean
    scale["value"] = 3.0
    second = jt.frozen_ensemble_mean(_model(), rho0, key, 64, 5, observable, chunk_size=32).mean
    np.testing.assert_allclose(second, 3.0 * first, rtol=1e-13)


def test_model_c_energy_assignment_compiles_once_in_a_coupling_sweep():
    """Model C's undriven energy_assignment (its lax.map was a fresh closure at every call) reuses
    its program across couplings and initial states; the energies stay those of e^{−iHt} by SciPy."""
    import scipy.linalg as sl

    lower = np.array([[0.0, 1.0], [0.0, 0.0]])
    times = jnp.linspace(0.0, 2.0, 11)

    def call(g, p):
        h_s, h_e = np.diag([0.0, 1.0]), np.diag([0.0, 1.2])
        h_i = g * (np.kron(lower, lower.T) + np.kron(lower.T, lower))
        rho0 = np.kron(np.diag([p, 1 - p]), np.diag([0.8, 0.2])).astype(complex)
        return jt.energy_assignment(jt.GlobalModel(h_s, h_i, h_e), rho0, times), (h_s, h_i, h_e, rho0)

    jax.block_until_ready(call(0.3, 0.7)[0].energies)
    with counted_compilations() as count:
        out, (h_s, h_i, h_e, rho0) = call(0.45, 0.6)
        jax.block_until_ready(out.energies)
    assert count[0] == 0
    h = np.kron(h_s, np.eye(2)) + h_i + np.kron(np.eye(2), h_e)
    for k, t in enumerate(np.asarray(times)):
        u = sl.expm(-1j * h * t)
        rho_t = u @ rho0 @ u.conj().T
        np.testing.assert_allclose(out.energies[1, k], np.trace(h_i @ rho_t).real, atol=1e-13)
