"""A model B built inside ``jax.jit`` from concrete values is checked as outside (helper-106's trial): its fields
were tracers, so under the default ``validate = "eager"`` λ = 100 (ρ_A negative: a collision's I = −6.04), NaN β,
Ω or τ < 0 ran without a word, and a valid model of NumPy arrays failed converting a tracer. Traced arguments stay
traced: derivatives through the constructors against central differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt

RHO = jnp.diag(jnp.array([0.7, 0.3])).astype(complex)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"lam": 100.0}, "lam: the ancilla state rho_A"),
        ({"beta": float("nan")}, "beta must be finite"),
        ({"omega": float("nan")}, "omega must be finite"),
        ({"tau": -1.0}, "tau must be > 0"),
    ],
)
def test_bad_concrete_values_are_refused_inside_jit(changes, message):
    with pytest.raises(ValueError, match=message):
        jax.jit(lambda: jt.stroboscopic_step(jt.qubit_example(**changes), RHO).system)()


def test_a_model_of_numpy_arrays_builds_inside_jit_and_gives_the_eager_numbers():
    m = jt.qubit_example()
    fields = dict(H_S=np.asarray(m.H_S), H_A=np.asarray(m.H_A), V=np.asarray(m.V), chi=np.asarray(m.chi))
    built = jax.jit(lambda: jt.stroboscopic_step(jt.CoherentCollisionModel(beta=1.0, lam=0.1, tau=0.01, **fields), RHO))
    np.testing.assert_allclose(built().system, jt.stroboscopic_step(m, RHO).system, rtol=1e-14, atol=1e-16)
    coupling = jt.coherent.qubit_coupling()
    inside = jax.jit(lambda: jt.coherent.eigenoperator_model(coupling, m.H_S, m.H_A, 1.0, fields["chi"], 0.1, 0.01).V)()
    np.testing.assert_array_equal(inside, m.V)
    with pytest.raises(ValueError, match="lam: the ancilla state"):
        jax.jit(lambda: jt.coherent.eigenoperator_model(coupling, m.H_S, m.H_A, 1.0, fields["chi"], 100.0, 0.01).V)()


def test_traced_arguments_stay_traced_and_differentiable():
    def coherence(lam, omega):
        return jnp.imag(jt.stroboscopic_step(jt.qubit_example(omega=omega, lam=lam), RHO).system[0, 1])

    grad = jax.jit(jax.grad(coherence, argnums=(0, 1)))(0.1, 1.0)
    h = 1e-6
    fd = (
        (coherence(0.1 + h, 1.0) - coherence(0.1 - h, 1.0)) / (2 * h),
        (coherence(0.1, 1.0 + h) - coherence(0.1, 1.0 - h)) / (2 * h),
    )
    np.testing.assert_allclose(grad, fd, rtol=1e-7, atol=1e-12)
    assert abs(grad[0]) > 1e-3  # the drive λ moves the coherence: not a derivative through a constant
    np.testing.assert_allclose(
        jax.vmap(coherence, (0, None))(jnp.array([0.05, 0.1]), 1.0),
        [coherence(0.05, 1.0), coherence(0.1, 1.0)],
        rtol=1e-14,
    )
