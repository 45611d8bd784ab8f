"""D_α(ρ‖τ_S) to a very cold τ_S (β g = 10³⁰⁰): the reference and the ensemble agree, and are finite.

τ_S of g s_z at finite β has full rank: log t_j = −βg m_j − log Z is finite (t_1 = e^{−10³⁰⁰} only underflows
as a number), so D_1(ρ‖τ_S) = Σ_j p_j log p_j − Σ_j p_j log t_j is finite too. For a qubit with
log Z = βg/2 + log(1 + e^{−βg}): log t_0 = −log(1 + e^{−βg}) and log t_1 = −βg − log(1 + e^{−βg}), so
D_1 = Σ_j p_j log p_j + p_1 βg + log(1 + e^{−βg}) ≈ p_1 βg. It is not +∞ (the value for the ground
state itself, β = ∞): D_α is non-decreasing in α and D_∞ = max_j log(p_j/t_j) = log p_1 + βg + … is finite,
and the package returns that D_∞ (and D_2) already. The reference route gave NaN at α = 1: its α → 1
series added (α − 1)/2 · Var_p[log p/t] with the variance as Σ p (log p/t)² − KL² = ∞ − ∞, times α − 1 = 0,
and so did ``jt.ensemble``'s row r = 0 and its mean-state column, which use that reference.
Inside the series' window (|α − 1| < 10⁻⁶) the series itself fails once |α − 1|·βg is not small: there
the values are checked against the definition log Σ_j p_j^α t_j^{1−α}/(α − 1) in 200-digit decimals.
"""

import decimal

import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo._information import log_thermal_populations, renyi_divergence_log
from jaxthermo.ensemble._divergences import classical_divergences


def _decimal_divergence(p, beta_g, alpha, digits=200):
    """D_α(p‖τ_S) of a qubit by the definition (α ≠ 1) or Σ p log p − Σ p log t (α = 1), with the
    log-populations above, in ``digits``-digit decimal arithmetic."""
    with decimal.localcontext() as ctx:
        ctx.prec = digits
        x, a = decimal.Decimal(beta_g), decimal.Decimal(alpha)
        log1p = (1 + (-x).exp()).ln()  # e^{−10³⁰⁰} is 0 here: log(1 + 0) = 0
        log_t = [-log1p, -x - log1p]
        log_p = [decimal.Decimal(float(pj)).ln() for pj in p]
        if alpha == 1.0:
            return float(sum(decimal.Decimal(float(pj)) * (lp - lt) for pj, lp, lt in zip(p, log_p, log_t)))
        e = [a * lp + (1 - a) * lt for lp, lt in zip(log_p, log_t)]
        top = max(e)
        return float((top + sum((ej - top).exp() for ej in e).ln()) / (a - 1))


P = np.asarray(jt.thermal_populations(2, 1.0, 1.0))  # ρ thermal at β = 1


@pytest.mark.parametrize("beta_g", [1e300, 1000.0])
@pytest.mark.parametrize("alpha", [1.0, 1 + 1e-7, 1 - 1e-7, 1 + 1e-9, 1 - 1e-9, 1 + 5e-7])
def test_reference_near_alpha_one_against_the_definition(beta_g, alpha):
    got = renyi_divergence_log(P, log_thermal_populations(2, beta_g, 1.0), alpha)
    np.testing.assert_allclose(got, _decimal_divergence(P, beta_g, alpha), rtol=1e-11)


@pytest.mark.parametrize("d", [2, 3])
def test_ensemble_and_reference_give_the_finite_divergence(d):
    """β = 10³⁰⁰, ρ_0 thermal at β = 1 (qubit and qutrit): row r = 0 of ``mean_divergence`` and
    ``mean_state_divergence`` equal the reference, the kernel's own classical columns and, for the qubit,
    the decimal value; D_1 < D_2 ≤ D_∞ (NaN at α = 1 before)."""
    alphas = (0.5, 1.0, 2.0, float("inf"))
    model = jt.InhomogeneousReservoir(d, beta=1e300, g0=1.0, theta=0.3, distribution=jt.Gaussian(0.1))
    rho0 = jt.thermal_state(d, 1.0, 1.0).astype(complex)
    ref = np.asarray(jt.divergences_to_thermal(rho0, 1e300, 1.0, alphas))
    kernel = np.asarray(classical_divergences(jt.thermal_populations(d, 1.0, 1.0), 1e300, 1.0, alphas))
    result = jt.ensemble(model, rho0, 2, 8, alphas=alphas)
    assert np.all(np.isfinite(ref))
    np.testing.assert_allclose(ref, kernel, rtol=1e-14)
    np.testing.assert_allclose(result.mean_divergence[0], ref, rtol=1e-14)
    np.testing.assert_allclose(result.mean_state_divergence[0], ref, rtol=1e-14)
    assert ref[1] < ref[2] <= ref[3]
    if d == 2:
        np.testing.assert_allclose(ref[1], _decimal_divergence(P, 1e300, 1.0), rtol=1e-14)


@pytest.mark.parametrize("beta_g", [800.0, 1e300, -800.0])
def test_qubit_closed_form_of_a_coherent_state_at_a_cold_reference(beta_g):
    """The ensemble's closed-form 2×2 divergences equal the reference's eigen-decomposition route where
    t_1 = e^{−βg}/Z underflows: with the populations alone ρ's weight on the underflowed level counted as
    outside supp τ_S, and D_1, D_2, D_∞ were +∞ (βg = 800: 214.6, 797.4, 798.7)."""
    import jax.numpy as jnp

    from jaxthermo.ensemble._divergences import qubit_quantum_divergences

    alphas = (0.5, 1.0, 1.5, 2.0, float("inf"))
    rho = jt.thermal_state(2, 1.0, 1.0).astype(complex) + 0.05 * (jnp.eye(2, k=1) + jnp.eye(2, k=-1))
    ref = np.asarray(jt.divergences_to_thermal(rho, beta_g, 1.0, alphas, quantum=True))
    p0, x, y = jnp.real(rho[0, 0]), jnp.real(rho[0, 1]), jnp.imag(rho[0, 1])
    got = np.asarray(qubit_quantum_divergences(p0, x, y, beta_g, 1.0, alphas))
    assert np.all(np.isfinite(ref))
    np.testing.assert_allclose(got, ref, rtol=1e-13)


def test_ensemble_divergences_of_coherent_qubits_at_beta_g0_800():
    """jt.ensemble's per-configuration D_α (the fused qubit path) against the reference route: the engine's
    δ draws (configuration i from fold_in(key(seed), i)) through jt.trajectory, then divergences_to_thermal
    with quantum=True, averaged over the configurations (+∞ from r = 1 on before)."""
    import jax
    import jax.numpy as jnp

    from jaxthermo.ensemble._sampling import sample_chunk

    n_steps, n_configs, alphas = 2, 8, (1.0, float("inf"))
    model = jt.InhomogeneousReservoir(2, beta=800.0, g0=1.0, theta=0.3, distribution=jt.Gaussian(0.1))
    rho0 = jt.thermal_state(2, 1.0, 1.0).astype(complex) + 0.05 * (jnp.eye(2, k=1) + jnp.eye(2, k=-1))
    result = jt.ensemble(model, rho0, n_steps, n_configs, alphas=alphas)
    deltas = sample_chunk(
        model.distribution, jax.random.key(0), jnp.arange(n_configs, dtype=jnp.uint32), n_steps, jnp.float64
    )
    states = jax.vmap(lambda dl: jt.trajectory(model, rho0, dl).states)(deltas)  # (n_configs, N + 1, 2, 2)
    ref = np.asarray(jt.divergences_to_thermal(states, 800.0, 1.0, alphas, quantum=True)).mean(axis=0)
    np.testing.assert_allclose(result.mean_divergence, ref, rtol=1e-12)
