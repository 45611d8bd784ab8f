"""The ensemble's fused qubit collision at the full swap θ = π/2 (docs/inhomogeneous.md §13): u − sin²θ(u − w) lost a
cold reservoir's excited population w ≪ ε|u| (ρ0 = diag(0.7, 0.3), βg0 = 40: p1 0 for e^{−40}/(1 + e^{−40}),
D_−2 +∞ for 0). After a full swap with a homogeneous reservoir (σ = 0) the system IS τ_S: every D_α(ρ‖τ_S) is 0
and p1 = 1/(1 + e^{βg0}); a nearly full swap is checked against the closed form p1' = cos²θ p1 + sin²θ q1."""

import math

import jax.numpy as jnp
import numpy as np

import jaxthermo as jt

ALPHAS = (-2.0, 0.5, 1.0, 2.0, float("inf"))


def test_full_swap_gives_the_cold_thermal_state():
    bg = 40.0
    model = jt.InhomogeneousReservoir(2, beta=bg, g0=1.0, theta=math.pi / 2, distribution=jt.Gaussian(0.0))
    rho0 = jnp.diag(jnp.array([0.7, 0.3])).astype(jnp.complex128)
    res = jt.ensemble(model, rho0, 3, 4, alphas=ALPHAS)
    q1 = 1.0 / (1.0 + math.exp(bg))  # the excited population of τ_S, g0 s_z with s_z = diag(−½, ½)
    for r in (1, 2, 3):
        p1 = float(np.real(res.mean_state[r][1, 1]))
        assert abs(p1 - q1) <= 1e-14 * q1, (r, p1, q1)
        # ρ = τ_S to rounding: D_α is rounding noise of the ~ε-relative populations (≲ 1e-14)
        assert np.all(np.abs(np.asarray(res.mean_divergence[r])) < 1e-14), (r, res.mean_divergence[r])


def test_full_swap_of_a_coherent_state():
    """θ = fl(π/2) leaves ρ01 cos θ ≈ 1.2e-17 of the coherence, which against q1 = 4e-18 is D_∞ ≈ 6e-9 (sandwiched):
    against the generic partial swap's trajectory and the reference quantum divergences."""
    bg = 40.0
    model = jt.InhomogeneousReservoir(2, beta=bg, g0=1.0, theta=math.pi / 2, distribution=jt.Gaussian(0.0))
    rho0 = jnp.array([[0.7, 0.2], [0.2, 0.3]], dtype=jnp.complex128)
    alphas = (0.5, 1.0, 2.0, float("inf"))
    res = jt.ensemble(model, rho0, 3, 4, alphas=alphas)
    states = jt.trajectory(model, rho0, jnp.zeros(3)).states
    q1 = 1.0 / (1.0 + math.exp(bg))
    for r in (1, 2, 3):
        assert abs(float(np.real(res.mean_state[r][1, 1])) - q1) <= 1e-14 * q1
        expected = np.asarray(jt.divergences_to_thermal(states[r], bg, 1.0, alphas, quantum=True))
        # log of an eigenvalue 1 + 6e-9: both routes ~ε absolute
        np.testing.assert_allclose(np.asarray(res.mean_divergence[r]), expected, rtol=1e-10, atol=1e-14)


def test_nearly_full_swap_closed_form():
    bg, theta, n = 40.0, math.pi / 2 - 1e-9, 4
    model = jt.InhomogeneousReservoir(2, beta=bg, g0=1.0, theta=theta, distribution=jt.Gaussian(0.0))
    rho0 = jnp.diag(jnp.array([0.7, 0.3])).astype(jnp.complex128)
    res = jt.ensemble(model, rho0, n, 4, alphas=(2.0,))
    q1, c2, s2 = 1.0 / (1.0 + math.exp(bg)), math.cos(theta) ** 2, math.sin(theta) ** 2
    p1 = 0.3
    for r in range(1, n + 1):
        p1 = c2 * p1 + s2 * q1  # 3e-19 + 4.2e-18 at r = 1: the reservoir's share dominates
        got = float(np.real(res.mean_state[r][1, 1]))
        assert abs(got - p1) <= 1e-13 * p1, (r, got, p1)
        # classical D_2 = log(p0²/q0 + p1²/q1), both populations to relative precision
        d2 = math.log((1 - p1) ** 2 / (1 - q1) + p1 * (p1 / q1))
        assert abs(float(res.mean_divergence[r][0]) - d2) <= 1e-13 * abs(d2) + 1e-15, (r, res.mean_divergence[r], d2)
