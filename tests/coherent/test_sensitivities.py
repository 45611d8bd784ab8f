"""Model B sensitivities for batches of models: ∂/∂λ, χ, β, τ of the coherent work rate, the
incoherent heat rate, the entropy-production terms and the steady-state heat currents
(docs/coherent.md §6–§9, docs/ensemble.md §5), against central finite differences and, for the
qubit example, against closed forms.

A batch is a model with a batched field (``model.replace(lam=lams)``); its members are
independent, so ``jax.vmap(jax.grad(f))`` over the batch and ``jax.grad`` of the batch sum give
the same per-member derivatives.
"""

import jax
import jax.numpy as jnp
import numpy as np

import jaxthermo as jt
from jaxthermo.coherent import map_over_models

RHO = jnp.array([[0.6, 0.2 - 0.1j], [0.2 + 0.1j, 0.4]])
OMEGA, G = 1.3, 0.7
LAMS = jnp.linspace(-0.8, 0.8, 5)
BETAS = jnp.linspace(0.3, 2.0, 5)
TAUS = jnp.array([0.005, 0.01, 0.02, 0.04, 0.05])
PHIS = jnp.linspace(0.0, 2.5, 5)


def _model(lam=0.3, beta=0.8, tau=0.01, phi=0.0):
    """The qubit example with χ = e^{−iφ}|0⟩⟨1| + h.c. (φ = 0: the paper's σ_x)."""
    chi = jnp.array([[0.0, jnp.exp(-1j * phi)], [jnp.exp(1j * phi), 0.0]])
    return jt.qubit_example(omega=OMEGA, g=G, beta=beta, lam=lam, tau=tau).replace(chi=chi)


def _populations(beta):
    """Thermal populations (q0, q1) of H = (Ω/2)σ_z at β: q0 ground."""
    q1 = 1.0 / (1.0 + np.exp(np.asarray(beta) * OMEGA))
    return 1.0 - q1, q1


def _central(f, x, h=1e-6):
    """Central differences of f (vectorised over a batch x)."""
    return (np.asarray(f(x + h)) - np.asarray(f(x - h))) / (2 * h)


def _outputs(lam, beta, tau, phi):
    """Every model-B quantity of the feature, for one member: a vector."""
    m = _model(lam, beta, tau, phi)
    t = jt.collision_thermodynamics(m, RHO)
    ss = jt.steady_state(m)
    return jnp.stack(
        [
            jt.coherent_work_rate(m, RHO),
            jt.incoherent_heat_rate(m, RHO),
            jt.entropy_production_rate(m, RHO),
            t.entropy_production,
            t.mutual_information,
            t.ancilla_relative_entropy,
            t.coherence_change,
            t.free_energy_change,
            t.coherent_work,
            jt.coherent_work_rate(m, ss),
            jt.incoherent_heat_rate(m, ss),
        ]
    )


def test_batched_derivatives_of_every_term_match_central_differences():
    """Jacobians in (λ, β, τ, φ) for a batch of five models, one compiled vmap(jacfwd)."""
    batch = jnp.stack([LAMS, BETAS, TAUS, PHIS], axis=1)  # (5, 4): every parameter varies
    along = lambda x: _outputs(x[0], x[1], x[2], x[3])
    jac = np.asarray(jax.jit(jax.vmap(jax.jacfwd(along)))(batch))  # (batch, outputs, parameters)
    values = jax.jit(jax.vmap(along))
    assert jac.shape == (5, 11, 4) and np.all(np.isfinite(jac))
    for k in range(4):
        step = np.zeros(4)
        step[k] = 1e-6
        fd = (np.asarray(values(batch + step)) - np.asarray(values(batch - step))) / 2e-6
        np.testing.assert_allclose(jac[..., k], fd, rtol=1e-5, atol=1e-9, err_msg=["lam", "beta", "tau", "phi"][k])
    assert np.max(np.abs(jac[:, :, 0])) > 1e-2 and np.max(np.abs(jac[:, :, 2])) > 1e-3


def test_a_batched_model_field_differentiates_member_by_member():
    """``model.replace(lam=lams)``: grad of the batch sum = vmap of the per-member grad."""
    base = _model(beta=0.8, tau=0.01)

    def per_member(lam):
        m = base.replace(lam=lam)
        return jt.incoherent_heat_rate(m, jt.steady_state(m))

    def batch_sum(lams):
        ss = jt.steady_state(base.replace(lam=lams))  # (B, 2, 2): the batched solver
        heat = map_over_models(lambda s: jt.incoherent_heat_rate(s, jt.steady_state(s)), base.replace(lam=lams))
        work = map_over_models(lambda s: jt.coherent_work_rate(s, jt.steady_state(s)), base.replace(lam=lams))
        return jnp.sum(heat), ss, work

    lams = jnp.linspace(-1.0, 1.0, 7)
    grad_sum = np.asarray(jax.grad(lambda x: batch_sum(x)[0])(lams))
    grad_vmap = np.asarray(jax.vmap(jax.grad(per_member))(lams))
    np.testing.assert_allclose(grad_sum, grad_vmap, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(grad_vmap, _central(jax.vmap(per_member), np.asarray(lams)), rtol=1e-6, atol=1e-10)
    # single species at its steady state: Q̇_inc = −Ẇ_C, so Π = βẆ_C ≥ 0 is even in λ
    _, _, work = batch_sum(lams)

    def work_at_ness(lam):
        m = base.replace(lam=lam)
        return jt.coherent_work_rate(m, jt.steady_state(m))

    np.testing.assert_allclose(grad_vmap, -np.asarray(jax.vmap(jax.grad(work_at_ness))(lams)), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.asarray(work), np.asarray(work)[::-1], rtol=1e-9, atol=1e-13)
    assert np.all(np.asarray(work) >= -1e-14)


def test_qubit_closed_forms_of_the_rates_and_their_derivatives():
    """Ẇ_C = 2λgΩ Im ρ_01 (linear in λ, no β or τ), Q̇_inc = Ωg²(q1 ρ_00 − q0 ρ_11) (no λ or τ)."""
    rho01, rho00, rho11 = float(np.imag(RHO[0, 1])), 0.6, 0.4

    def rates(lam, beta, tau):
        m = _model(lam, beta, tau)
        return jnp.stack([jt.coherent_work_rate(m, RHO), jt.incoherent_heat_rate(m, RHO)])

    lam, beta, tau = jnp.meshgrid(LAMS, BETAS, TAUS[:2], indexing="ij")
    lam, beta, tau = lam.ravel(), beta.ravel(), tau.ravel()
    value = np.asarray(jax.vmap(rates)(lam, beta, tau))
    d = [np.asarray(jax.vmap(jax.jacfwd(rates, argnums=k))(lam, beta, tau)) for k in range(3)]
    q0, q1 = _populations(beta)
    np.testing.assert_allclose(value[:, 0], 2 * np.asarray(lam) * G * OMEGA * rho01, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(value[:, 1], OMEGA * G**2 * (q1 * rho00 - q0 * rho11), rtol=1e-12)
    np.testing.assert_allclose(d[0][:, 0], 2 * G * OMEGA * rho01, rtol=1e-12)  # ∂Ẇ_C/∂λ
    np.testing.assert_allclose(d[1][:, 1], -(OMEGA**2) * G**2 * q0 * q1, rtol=1e-10)  # ∂Q̇_inc/∂β
    np.testing.assert_array_equal(d[0][:, 1], 0.0)  # ∂Q̇_inc/∂λ
    np.testing.assert_array_equal(d[1][:, 0], 0.0)  # ∂Ẇ_C/∂β
    np.testing.assert_array_equal(d[2], 0.0)  # the τ → 0 rates do not depend on τ


def test_two_bath_steady_state_heat_currents_closed_form_and_finite_differences():
    """Qubit between a hot and a cold bath (g = 1, λ = 0): Q̇_h = −Q̇_c = Ω(q1^h − q1^c)/2,
    ∂Q̇_h/∂β_h = −Ω² q0^h q1^h/2; the currents are even in λ_h (zero slope at λ = 0)."""

    def currents(beta_h, lam_h, beta_c=2.0):
        hot = jt.qubit_example(omega=OMEGA, g=1.0, beta=beta_h, lam=lam_h, tau=0.01)
        cold = jt.qubit_example(omega=OMEGA, g=1.0, beta=beta_c, lam=0.0, tau=0.01)
        both = jt.MultiSpeciesModel((hot, cold))
        ss = jt.steady_state(both)
        return jnp.concatenate(
            [
                jt.incoherent_heat_rate(both, ss),
                jt.coherent_work_rate(both, ss),
                jnp.atleast_1d(jt.entropy_production_rate(both, ss)),
            ]
        )

    beta_h = jnp.concatenate([BETAS[:4], BETAS[:4]])
    lam_h = jnp.concatenate([jnp.zeros(4), jnp.full(4, 0.4)])  # λ = 0 (closed forms), λ = 0.4
    values = jax.jit(jax.vmap(currents))
    value = np.asarray(values(beta_h, lam_h))[:4]
    dbeta, dlam = (np.asarray(j) for j in jax.jit(jax.vmap(jax.jacfwd(currents, argnums=(0, 1))))(beta_h, lam_h))
    q0h, q1h = _populations(beta_h[:4])
    _, q1c = _populations(2.0)
    np.testing.assert_allclose(value[:, 0], OMEGA * (q1h - q1c) / 2, rtol=1e-10)
    np.testing.assert_allclose(value[:, 1], -value[:, 0], rtol=1e-10)
    np.testing.assert_allclose(dbeta[:4, 0], -(OMEGA**2) * q0h * q1h / 2, rtol=1e-8)
    np.testing.assert_allclose(dlam[:4], 0.0, atol=1e-12)
    # away from λ = 0: all derivatives (currents, Ẇ_C per species, Π) against central differences
    h = 1e-6
    fd_beta = (np.asarray(values(beta_h + h, lam_h)) - np.asarray(values(beta_h - h, lam_h))) / (2 * h)
    fd_lam = (np.asarray(values(beta_h, lam_h + h)) - np.asarray(values(beta_h, lam_h - h))) / (2 * h)
    np.testing.assert_allclose(dbeta, fd_beta, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(dlam, fd_lam, rtol=1e-6, atol=1e-10)
    assert np.max(np.abs(dlam[4:])) > 1e-2


def test_a_chi_entry_gradient_through_a_batch_matches_finite_differences():
    """∂/∂(Re χ_01, Im χ_01) of Σ and W_C of one collision, for a batch of λ values at once."""

    def terms(chi01, lam):
        m = jt.qubit_example(omega=OMEGA, g=G, beta=0.8, lam=lam, tau=0.02)
        z = chi01[0] + 1j * chi01[1]
        m = m.replace(chi=jnp.array([[0.0, z], [jnp.conj(z), 0.0]]))
        t = jt.collision_thermodynamics(m, RHO)
        return jnp.stack([t.entropy_production, t.coherent_work, t.bound_margin])

    chi01 = jnp.array([0.8, 0.3])
    jac = np.asarray(jax.jit(jax.vmap(jax.jacfwd(terms), in_axes=(None, 0)))(chi01, LAMS))  # (5, 3, 2)
    values = jax.jit(jax.vmap(terms, in_axes=(None, 0)))
    for k in range(2):
        e = np.zeros(2)
        e[k] = 1e-6
        fd = (np.asarray(values(chi01 + e, LAMS)) - np.asarray(values(chi01 - e, LAMS))) / 2e-6
        np.testing.assert_allclose(jac[..., k], fd, rtol=1e-5, atol=1e-10)
