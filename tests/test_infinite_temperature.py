"""Free energies at β = 0: F_α = [D_α(ρ‖τ_S) − log Z_S]/β (docs/information.md §3) is infinite or 0/0 there, and
was returned as NaN (a pure state: D_∞ = log Z = log d) or −∞ without a word, in jt.free_energy,
jt.quantum_free_energy, jt.free_energies of a β = 0 model, ensemble_mean(observable="free_energy") and the δ
sensitivities of jt.ensemble. Now a ValueError naming β; β F_α = D_α − log Z_S stays available and finite, and
F_α next to β = 0 still approaches its limit (⟨E⟩ − S/β for α = 1, E_0 for a pure ground state)."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt

INF = float("inf")


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0, INF])
def test_free_energy_refuses_infinite_temperature(alpha):
    ground = jnp.array([1.0, 0.0])
    with pytest.raises(ValueError, match="beta=0"):
        jt.free_energy(ground, 0.0, 1.0, alpha)
    with pytest.raises(ValueError, match="beta=0"):
        jt.free_energy(ground, jnp.array([1.0, 0.0]), 1.0, alpha)  # one entry of a batch of β's
    with pytest.raises(ValueError, match="beta=0"):
        jt.quantum_free_energy(jnp.diag(ground).astype(complex), 0.0, 1.0, alpha)
    # β F_α = D_α − log Z_S at β = 0: D_α of the ground state against the maximally mixed τ_S, log 2 − log 2
    d = jt.divergences_to_thermal(jnp.diag(ground), 0.0, 1.0, (alpha,))[0]
    assert abs(float(d) - math.log(2.0)) < 1e-15


def test_model_free_energies_refuse_infinite_temperature():
    model = jt.InhomogeneousReservoir(2, beta=0.0, g0=1.0, theta=0.3, distribution=jt.Gaussian(0.05))
    rho = jt.thermal_state(2, 1.0, 1.0)
    with pytest.raises(ValueError, match="beta=0"):
        jt.free_energies(model, rho, (1.0, 2.0))
    with pytest.raises(ValueError, match="beta=0"):
        jt.free_energies(model, rho, (1.0,), quantum=True)
    states = jt.trajectory(model, rho, jnp.zeros(2)).states
    with pytest.raises(ValueError, match="beta=0"):
        jt.free_energy_changes(model, states, (1.0,))
    with pytest.raises(ValueError, match="model.beta=0"):
        jt.ensemble_mean(model, rho, 2, 4, observable="free_energy", alpha=1.0)
    with pytest.raises(ValueError, match="model.beta=0"):
        jt.ensemble(model, rho, 2, 4, wrt=("deltas",))
    # what does not divide by β still runs at infinite temperature
    assert np.isfinite(float(jt.ensemble_mean(model, rho, 2, 4)))


def test_free_energy_next_to_infinite_temperature():
    """Small β: F_1 = ⟨E⟩ − S/β (H_S = g s_z, s_z = diag(−½, ½)) and, for the ground state, every F_α → E_0 = −½."""
    p = np.array([0.7, 0.3])
    energies = np.array([-0.5, 0.5])
    entropy = -np.sum(p * np.log(p))
    for beta in (1e-3, 1e-6):
        expected = p @ energies - entropy / beta
        assert abs(float(jt.free_energy(jnp.asarray(p), beta, 1.0, 1.0)) - expected) < 1e-12 / beta
        ground = float(jt.free_energy(jnp.array([1.0, 0.0]), beta, 1.0, 2.0))
        assert abs(ground + 0.5) < 2e-15 / beta + beta  # the limit E_0, up to the rounding ~ε log 2/β and O(β)
