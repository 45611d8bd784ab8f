"""The uniqueness check of ``steady_state`` is relative to the dissipative part of 𝓛 (docs/coherent.md §3)."""

import numpy as np
import pytest

import jaxthermo as jt


def _closed_form(omega, g, beta, lam):
    """Steady state of the qubit example (docs/coherent.md §5): ρ̇ = −i[(Ω/2)σ_z + hσ_x, ρ] + γ⁻𝒟[σ₋] + γ⁺𝒟[σ₊],
    h = λg, γ⁻ = g²p_0, γ⁺ = g²p_1 (p_j thermal at β, p_1/p_0 = e^{−βΩ}), basis (|0⟩, |1⟩), σ_z = diag(−1, 1).

    With z = ρ_11 − ρ_00 and c = ρ_01: ċ = (iΩ − Γ/2)c − ihz, ρ̇_11 = 2h Im c − γ⁻ρ_11 + γ⁺ρ_00, Γ = γ⁻ + γ⁺.
    Stationary: c = ihz/(iΩ − Γ/2), Im c = −hzΓ/2/(Ω² + Γ²/4), hence z = z_th/(1 + 2h²/(Ω² + Γ²/4)) with
    z_th = (γ⁺ − γ⁻)/Γ = −tanh(βΩ/2). At λ = 0 this is the thermal state diag(p_0, p_1) of H_S at β."""
    p0, p1 = 1 / (1 + np.exp(-beta * omega)), np.exp(-beta * omega) / (1 + np.exp(-beta * omega))
    gm, gp = g**2 * p0, g**2 * p1
    big_gamma, h = gm + gp, lam * g
    z = -np.tanh(beta * omega / 2) / (1 + 2 * h**2 / (omega**2 + big_gamma**2 / 4))
    c = 1j * h * z / (1j * omega - big_gamma / 2)
    return np.array([[(1 - z) / 2, c], [np.conj(c), (1 + z) / 2]])


@pytest.mark.parametrize("g", [1e-7, 1e-9])
@pytest.mark.parametrize("lam", [0.0, 0.1])
def test_weak_coupling_steady_state_is_accepted_and_exact(g, lam):
    """γ/‖𝓛‖ = g²p_0/Ω ≈ 5e-15 (g = 1e-7) is below the old threshold 100·d²·ε = 8.9e-14 on σ_min/σ_max of the
    bordered 𝓛, so the old code raised "not unique" although the solve is exact; the closed form above is the
    independent route."""
    omega, beta = 1.0, 1.0
    rho = np.asarray(jt.steady_state(jt.qubit_example(omega=omega, g=g, beta=beta, lam=lam)))
    np.testing.assert_allclose(rho, _closed_form(omega, g, beta, lam), rtol=0, atol=1e-14)
    if lam == 0.0:  # thermal at the bath's β: p_1/p_0 = e^{−βΩ}
        np.testing.assert_allclose(rho[1, 1] / rho[0, 0], np.exp(-beta * omega), rtol=1e-14)


def _decoupled_level(g):
    """A qutrit whose level |2⟩ no coupling reaches: V = g(|0⟩⟨1| ⊗ σ₊ + h.c.) on levels 0, 1 only, so |2⟩⟨2| and
    the thermal state of {|0⟩, |1⟩} are both stationary (a conserved projector: not unique, for every g ≠ 0)."""
    sm_a = np.array([[0.0, 1.0], [0.0, 0.0]])
    low = np.zeros((3, 3))
    low[0, 1] = 1.0
    v = g * (np.kron(low, sm_a.T) + np.kron(low.T, sm_a))
    h_s, h_a = np.diag([-0.5, 0.5, 1.3]), np.diag([-0.5, 0.5])
    chi = np.array([[0.0, 1.0], [1.0, 0.0]])
    return jt.CoherentCollisionModel(h_s, h_a, v, 1.0, chi, 0.1, 0.01)


@pytest.mark.parametrize("g", [1.0, 1e-7])
def test_non_unique_steady_state_is_still_refused(g):
    """Independent route at g = 1: NumPy's rank of 𝓛 shows a two-dimensional kernel."""
    if g == 1.0:
        lv = np.asarray(jt.liouvillian(_decoupled_level(g)))
        assert lv.shape[0] - np.linalg.matrix_rank(lv) == 2
    with pytest.raises(ValueError, match="model: the steady state is not unique"):
        jt.steady_state(_decoupled_level(g))
    with pytest.raises(ValueError, match="not unique"):
        jt.steady_state(jt.qubit_example(g=0.0))
