"""Derivatives in λ, χ, β, τ and the coupling against central finite differences (docs/ensemble.md, sensitivities)."""

import jax
import jax.numpy as jnp
import numpy as np

import jaxthermo as jt
from jaxthermo.coherent import collide, collision_thermodynamics, qubit_example

RHO = jnp.array([[0.6, 0.2 - 0.1j], [0.2 + 0.1j, 0.4]])
CHI3 = np.array([[0, 0.3 + 0.2j, 0.1], [0.3 - 0.2j, 0, -0.4j], [0.1, 0.4j, 0]])


def _fd(f, x, h=1e-6):
    """Central differences of a (vector-valued) f, shape f(x).shape + x.shape."""
    x = np.asarray(x, dtype=float)
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h))
    return np.stack(cols, axis=-1)


def _qubit(params):
    lam, beta, tau, g, chi_re, chi_im = params
    m = qubit_example(omega=1.0, g=g, beta=beta, lam=lam, tau=tau)
    chi = jnp.array([[0.0, chi_re - 1j * chi_im], [chi_re + 1j * chi_im, 0.0]])
    return m.replace(chi=chi)


def _outputs(params):
    m = _qubit(params)
    t = collision_thermodynamics(m, RHO)
    c = collide(m, RHO)
    ss = jt.steady_state(m)
    late = jt.propagate(m, RHO, jnp.linspace(0.0, 1.5, 4))[-1]
    return jnp.stack(
        [
            t.coherent_work,
            t.entropy_production,
            t.coherence_change,
            t.mutual_information,
            c.ancilla_heat,
            jt.coherent_work_rate(m, ss),
            jt.incoherent_heat_rate(m, ss),
            jnp.real(late[0, 1]),
            jt.entropy_production_rate(m, RHO),
        ]
    )


def test_gradients_in_lambda_beta_tau_coupling_and_chi_match_finite_differences():
    x0 = np.array([0.4, 0.8, 0.01, 0.9, 1.0, 0.3])
    jac = np.asarray(jax.jit(jax.jacfwd(_outputs))(jnp.asarray(x0)))
    rev = np.asarray(jax.jit(jax.jacrev(_outputs))(jnp.asarray(x0)))
    fd = _fd(jax.jit(_outputs), x0)
    assert np.all(np.isfinite(jac))
    np.testing.assert_allclose(jac, fd, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(rev, jac, rtol=1e-10, atol=1e-12)
    assert np.max(np.abs(jac)) > 1e-3


def test_gradient_with_respect_to_a_qutrit_chi_and_a_generic_coupling():
    rng = np.random.default_rng(140)
    e = np.array([0.0, 1.0, 2.0])
    h = np.diag(e)
    energy = (e[:, None] + e[None, :]).ravel()
    anc = np.tile(np.arange(3), 3)
    mask = (np.abs(energy[:, None] - energy[None, :]) < 1e-12) & (anc[:, None] != anc[None, :])
    a = rng.normal(size=(9, 9)) + 1j * rng.normal(size=(9, 9))
    v0 = np.where(mask, (a + a.conj().T) / 2, 0.0)

    def work(params):
        chi_flat, coupling = params[:6], params[6]
        re, im = chi_flat[:3], chi_flat[3:]
        upper = (
            jnp.zeros((3, 3), complex)
            .at[0, 1]
            .set(re[0] + 1j * im[0])
            .at[0, 2]
            .set(re[1] + 1j * im[1])
            .at[1, 2]
            .set(re[2] + 1j * im[2])
        )
        chi = upper + jnp.conj(upper.T)
        m = jt.CoherentCollisionModel(h, h, coupling * v0, 0.7, chi, 0.5, 0.01)
        rho = jnp.asarray(np.diag([0.5, 0.3, 0.2]) + 0.05 * (np.ones((3, 3)) - np.eye(3)), complex)
        return collision_thermodynamics(m, rho).coherent_work + 0.1 * collide(m, rho).ancilla_heat

    x0 = np.array([0.3, 0.1, -0.2, 0.2, 0.0, 0.4, 1.1])
    grad = np.asarray(jax.jit(jax.grad(work))(jnp.asarray(x0)))
    np.testing.assert_allclose(grad, _fd(jax.jit(work), x0), rtol=1e-5, atol=1e-9)


def test_no_recompilation_when_parameter_values_change():
    traces = []

    @jax.jit
    def f(model, rho):
        traces.append(1)
        return jt.coherent_work_rate(model, rho)

    for lam in (0.1, 0.2, 0.3):
        f(qubit_example(lam=lam, tau=0.01), RHO)
    assert len(traces) == 1
