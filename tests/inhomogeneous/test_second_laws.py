"""Second laws under inhomogeneity: ΔF_α, ΔF_1 ≤ W, its failure for α > 1, violation
from τ_S, entropy production, and frozen vs averaged divergences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from tests.helpers import random_state

ALPHAS = [-2.0, 0.0, 0.5, 1.0, 3.0, np.inf]


def _model(d=2, theta=0.1, sigma=0.05, kind="hamiltonian"):
    return jt.InhomogeneousReservoir(d, 1.0, 1.0, theta, kind=kind, distribution=jt.Gaussian(sigma))


def test_free_energies_match_definition():
    """F_α = [D_α − log Z]/β against a direct NumPy evaluation of [ATO19] eqs. (32)–(33)."""
    model = _model(3)
    p = np.array([0.5, 0.3, 0.2])
    q = np.exp(-np.array([-1.0, 0.0, 1.0]))
    z = q.sum()
    q = q / z
    f = jt.free_energies(model, np.diag(p), ALPHAS)
    for alpha, value in zip(ALPHAS, f):
        if alpha == 0:
            d = -np.log(q[p > 0].sum())
        elif alpha == 1:
            d = np.sum(p * np.log(p / q))
        elif np.isinf(alpha):
            d = np.log(np.max(p / q))
        else:
            d = np.sign(alpha) / (alpha - 1) * np.log(np.sum(p**alpha * q ** (1 - alpha)))
        np.testing.assert_allclose(value, d - np.log(z), rtol=1e-10)


@pytest.mark.parametrize("d", [2, 3])
def test_delta_f1_below_work_always(d):
    """ΔF_1 ≤ W for every δ and every diagonal input ([ATO19] §V, Hamiltonian kind), any θ."""
    rng = np.random.default_rng(d)
    model = _model(d, theta=0.4)
    worst = -np.inf
    deltas = jnp.linspace(-0.3, 0.3, 25)
    for _ in range(8):
        rho = random_state(d, rng, diagonal=True)
        out = jax.vmap(lambda x: jt.collision_second_laws(model, rho, x, [1.0]))(deltas)
        worst = max(worst, float(jnp.max(out.free_energy_change[:, 0] - out.work)))
    assert worst <= 1e-15


def test_delta_f_alpha_above_work_for_alpha_gt_one_at_positive_delta():
    """[ATO19] Fig. 4 (θ = 0.1, βg0 = 1, p0 = 0.75): ΔF_3 > W for δ > 0, ΔF_1 ≤ W everywhere."""
    model = _model()
    rho = jnp.diag(jnp.array([0.75, 0.25]))
    deltas = np.linspace(-0.2, 0.2, 41)
    out = [jt.collision_second_laws(model, rho, x, [1.0, 3.0]) for x in deltas]
    w = np.array([float(o.work) for o in out])
    f1 = np.array([float(o.free_energy_change[0]) for o in out])
    f3 = np.array([float(o.free_energy_change[1]) for o in out])
    # the crossing is at τ(δ*) = ρ: q0(δ*) = p0 ⇔ δ* = ln(p0/p1)/(βg0) − 1 = ln 3 − 1 ≈ 0.099
    star = np.log(3.0) - 1.0
    above, below = deltas > star + 1e-3, deltas < star - 1e-3
    assert np.all(f1 <= w + 1e-16)
    assert np.all(f3[above] > w[above])
    assert np.all(f3[below] < w[below])
    assert np.all(f1[above] > 0) and np.all(f1[below] < 0)  # ΔF ≤ 0 itself is violated beyond δ*
    out_star = jt.collision_second_laws(model, rho, star, [1.0, 3.0])
    assert abs(float(out_star.work)) < 1e-15 and np.all(np.abs(out_star.free_energy_change) < 1e-14)


@pytest.mark.parametrize("d", [2, 3])
def test_every_second_law_violated_from_thermal_state(d):
    """Start in τ_S, evolve to τ̄: βΔF_α = D_α(ρ̄_N‖τ_S) > 0 ([ATO19] §V)."""
    model = _model(d, theta=0.5, sigma=0.2)
    tau_s = jt.thermal_state(d, 1.0, 1.0)
    avg = jt.averaged_trajectory(model, tau_s, 30)
    f = jt.free_energies(model, avg.states[jnp.array([0, -1])], ALPHAS)
    delta_f = f[1] - f[0]
    # strictly positive for every α ≠ 0; D_0 = −log Σ_{p>0} q only sees supports, which stay full
    # (the seeds' "strictly positive for all α" needs that caveat at α = 0)
    nonzero = np.array(ALPHAS) != 0
    assert np.all(delta_f[nonzero] > 0)
    assert abs(float(delta_f[~nonzero][0])) < 1e-15
    np.testing.assert_allclose(
        delta_f, jt.inhomogeneous.divergences_to_thermal(model, avg.states[-1], ALPHAS), rtol=1e-10, atol=1e-14
    )


@pytest.mark.parametrize("d", [2, 3])
def test_entropy_production_nonnegative_and_decomposed(d):
    """ΔS = S(ρ'_SR‖ρ'_S ⊗ τ(δ)) = I(S:R)' + S(ρ'_R‖τ(δ)) ≥ 0, coherent inputs too, both couplings."""
    rng = np.random.default_rng(5)
    for coupling in (jt.PartialSwap(), jt.ExactUnitary(3.0)):
        model = _model(d, theta=0.6).replace(coupling=coupling)
        for _ in range(5):
            rho = random_state(d, rng)
            delta = rng.normal(scale=0.3)
            s = float(jt.entropy_production(model, rho, delta))
            res = jt.inhomogeneous.collide_generic(model, rho, delta)
            tau = jt.inhomogeneous.reservoir_state(model, delta)
            other = jt.mutual_information(res.joint, (d, d)) + jt.relative_entropy(res.ancilla, tau)
            assert s >= 0
            np.testing.assert_allclose(s, other, atol=1e-10)
    # zero when nothing happens (θ = 0)
    assert abs(float(jt.entropy_production(_model(d, theta=0.0), random_state(d, rng), 0.1))) < 1e-10


def test_frozen_vs_averaged_divergence():
    """[ATO19] Fig. 5 setting: D_1 is convex, so the frozen mean lies above D_1 of the averaged state
    (Jensen), and the frozen–averaged gap is far larger for α = ∞ than for α = 1 ([ATO19] §VI)."""
    model = _model(theta=0.2, sigma=0.05)
    rho0 = jnp.diag(jnp.array([0.735, 0.265]))
    res = jt.frozen_vs_averaged_divergence(model, rho0, jax.random.PRNGKey(0), 4000, 60, [1.0, np.inf], chunk_size=2000)
    late = slice(40, None)
    assert np.all(res.frozen_mean[1:, 0] >= res.averaged[1:, 0] - 1e-15)
    gap = np.mean(res.frozen_mean[late] - res.averaged[late], axis=0)
    assert gap[1] > 100 * gap[0]  # D_∞ is far more sensitive to frozen inhomogeneity than D_1
    assert res.frozen_mean[-1, 1] - res.averaged[-1, 1] > 20 * res.frozen_stderr[-1, 1]
    # the averaged curve is D_α of the exactly averaged dynamics, not of a Monte-Carlo estimate
    avg = jt.averaged_trajectory(model, rho0, 60)
    np.testing.assert_allclose(
        res.averaged[:, 0], [jt.relative_entropy(s, jt.thermal_state(2, 1.0, 1.0)) for s in avg.states], atol=1e-12
    )


def test_quantum_free_energies_for_coherent_states_reduce_to_classical():
    model = _model(2)
    rho = np.diag([0.7, 0.3]).astype(complex)
    np.testing.assert_allclose(
        jt.free_energies(model, rho, [0.5, 1.0, 2.0], quantum=True),
        jt.free_energies(model, rho, [0.5, 1.0, 2.0]),
        rtol=1e-10,
    )


def test_quantum_divergences_to_thermal_trace_under_jit_and_checkpoint():
    """quantum=True picks a divergence per α (host floats): the call traces under jit, checkpoint and
    grad (a JAX array of orders once failed there), equal to the eager call; at the thermal state
    the divergence is zero, and its derivative along a coherence is zero too (a minimum)."""
    model = _model(3)
    rho = jnp.asarray(random_state(3, np.random.default_rng(7)))
    alphas = [0.5, 1.0, 2.0]
    f = lambda r: jt.inhomogeneous.divergences_to_thermal(model, r, alphas, quantum=True)
    eager = f(rho)
    np.testing.assert_allclose(jax.jit(f)(rho), eager, rtol=1e-12)
    np.testing.assert_allclose(jax.jit(jax.checkpoint(f))(rho), eager, rtol=1e-12)
    log_z = float(jt.log_partition_function(3, model.beta, model.g0))  # F_α = (D_α − log Z)/β
    np.testing.assert_allclose(
        eager, model.beta * jt.free_energies(model, rho, alphas, quantum=True) + log_z, rtol=1e-12
    )
    tau = jt.thermal_state(3, model.beta, model.g0).astype(complex)
    np.testing.assert_allclose(jax.jit(f)(tau), 0.0, atol=1e-12)
    direction = jnp.zeros((3, 3), complex).at[0, 1].set(1.0).at[1, 0].set(1.0)
    slope = jax.jit(jax.jacfwd(lambda t: f(tau + t * direction)))(0.0)
    np.testing.assert_allclose(slope, 0.0, atol=1e-9)
