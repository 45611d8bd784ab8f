"""The engine's quantum D_α for α next to 1 (coherent ρ0): ``log Tr(·)/(α − 1)`` lost ε/|α − 1| (a coherent qubit's
D_α was 2.5e-3 from D_1 at α = 1 ± 1e-14). Against the reference :func:`jaxthermo.divergences_to_thermal`, whose own
window is D_1 + (α − 1)V/2 with the relative-entropy variance V in closed form (an independent route from the
engine's difference quotient), on a run whose configurations all equal the σ = 0 trajectory."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt

ALPHAS = (1.0, 1.0 - 1e-14, 1.0 + 1e-12, 1.0 - 3e-7, 1.0 + 3e-7, 1.0 + 2e-6, 0.5, 2.0)


def _coherent_state(d):
    rng = np.random.default_rng(d)
    a = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    rho = a @ a.conj().T + d * np.eye(d)
    return jnp.asarray(rho / np.trace(rho))


@pytest.mark.parametrize("d", [2, 3])
def test_engine_divergences_next_to_one(d):
    model = jt.InhomogeneousReservoir(d, beta=1.0, g0=1.0, theta=0.4, distribution=jt.Gaussian(0.0))
    rho0 = _coherent_state(d)
    n_steps = 3
    res = jt.ensemble(model, rho0, n_steps, 2, alphas=ALPHAS, divergence_every=1)
    states = jt.trajectory(model, rho0, jnp.zeros(n_steps)).states
    # outside the windows (1e-6) both routes are log Tr(·)/(α − 1), rounding ~ε/|α − 1| (1.1e-10 at α = 1 + 2e-6)
    eps = np.finfo(np.float64).eps
    atol = np.array([1e-13 if abs(a - 1) < 1e-6 else 1e-13 + 8 * eps / abs(a - 1) for a in ALPHAS])
    for r in range(n_steps + 1):
        expected = np.asarray(jt.divergences_to_thermal(states[r], 1.0, 1.0, ALPHAS, quantum=True))
        err = np.abs(np.asarray(res.mean_divergence[r]) - expected)
        assert np.all(err <= atol + 1e-12 * np.abs(expected)), (r, err)
    # next to 1 the values are D_1 + (α − 1)V/2: within 1e-6 of D_1 and ordered with α (monotone in α)
    near = np.asarray(res.mean_divergence[-1][:6])
    assert np.all(np.abs(near[1:] - near[0]) < 1e-5)
    order = np.argsort(ALPHAS[:6])
    assert np.all(np.diff(near[order]) >= -1e-15)
