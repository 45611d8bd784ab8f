"""Refusals named where JAX spoke (gradient audit, session 48): a host-side diagnostic under a transformation, and a
traced order of a quantum divergence."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.inhomogeneous import expansion_error

RHO = jnp.array([[0.6, 0.1 - 0.05j], [0.1 + 0.05j, 0.4]])
MODEL = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=0.3, distribution=jt.Gaussian(0.1))


@pytest.mark.parametrize(
    "name, f",
    [
        ("model.beta", lambda x: expansion_error(MODEL.replace(beta=x), RHO, "work")),
        ("model.theta", lambda x: expansion_error(MODEL.replace(theta=x), RHO, "heat")),
        ("rho", lambda x: expansion_error(MODEL, RHO * x, "work")),
        ("distribution.sigma", lambda x: expansion_error(MODEL, RHO, "work", jt.Gaussian(x))),
    ],
)
def test_expansion_error_names_a_traced_argument(name, f):
    """It sorts 2¹⁶ draws on the host: a bare TracerArrayConversionError (β, σ, ρ) or a silent 0.0 (θ) before."""
    with pytest.raises(TypeError, match=rf"expansion_error: {name} is traced"):
        jax.grad(f)(1.0)
    with pytest.raises(TypeError, match=rf"expansion_error: {name} is traced"):
        jax.jit(f)(1.0)


def test_quantum_divergences_to_thermal_refuse_a_traced_order_and_take_concrete_ones():
    with pytest.raises(TypeError, match="alphas must be concrete"):
        jax.grad(lambda a: jt.divergences_to_thermal(RHO, 1.0, 1.0, (a,), quantum=True)[0])(2.0)
    with pytest.raises(TypeError, match="alphas must be concrete"):
        jax.jit(lambda a: jt.divergences_to_thermal(RHO, 1.0, 1.0, a, quantum=True))(jnp.array([0.5, 2.0]))
    with pytest.raises(ValueError, match=r"alphas=\(?nan"):
        jt.divergences_to_thermal(RHO, 1.0, 1.0, (np.nan,), quantum=True)
    tau = jt.thermal_state(2, 1.0, 1.0)
    expected = [float(jt.quantum_renyi_divergence(RHO, tau, a)) for a in (0.5, 2.0)]
    for alphas in ((0.5, 2.0), np.array([0.5, 2.0]), jnp.array([0.5, 2.0])):
        got = jt.divergences_to_thermal(RHO, 1.0, 1.0, alphas, quantum=True)
        np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-12)
    np.testing.assert_allclose(float(jt.divergences_to_thermal(RHO, 1.0, 1.0, 2.0, quantum=True)[0]), expected[1])
