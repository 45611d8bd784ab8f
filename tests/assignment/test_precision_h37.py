"""Model C keeps the precision of its state (README, Precision): float32 in → float32 out, a Python-float
time or parameter (weakly typed) promotes nothing; values agree with the float64 run to float32 accuracy."""

import jax.numpy as jnp
import numpy as np

from jaxthermo import GlobalModel, exact_generator, reduced_map

SM = np.array([[0.0, 1.0], [0.0, 0.0]])


def _model(dtype):
    n = np.diag([0.0, 1.0]).astype(dtype)
    h_i = (0.4 * (np.kron(SM.T, SM) + np.kron(SM, SM.T)) + 0.2 * np.kron(n, n)).astype(dtype)
    return GlobalModel(n, h_i, (1.3 * n).astype(dtype)), np.diag([0.8, 0.2]).astype(dtype)


def test_reduced_map_and_generator_keep_float32_with_a_python_float_time():
    """reduced_map/exact_generator took their precision from ``jnp.asarray(t).dtype``: a Python float t is
    float64 there, so a float32 environment state gave complex128 Φ_t, Φ̇_t and L_t. Now complex64, equal to
    the float64 computation to float32 rounding."""
    model32, rho_e32 = _model(np.float32)
    model64, rho_e64 = _model(np.float64)
    for t in (1.7, 2, np.float32(1.7)):
        phi, phi_dot = reduced_map(model32, rho_e32, t)
        gen = exact_generator(model32, rho_e32, t)
        assert phi.dtype == phi_dot.dtype == gen.dtype == jnp.complex64, (t, phi.dtype, gen.dtype)
        ref_phi, ref_phi_dot = reduced_map(model64, rho_e64, float(t))
        ref_gen = exact_generator(model64, rho_e64, float(t))
        np.testing.assert_allclose(phi, ref_phi, atol=2e-6)
        np.testing.assert_allclose(phi_dot, ref_phi_dot, atol=2e-6)
        np.testing.assert_allclose(gen, ref_gen, atol=1e-5)
    # a float64 time is a float64 input: promotion is then what was asked for
    assert reduced_map(model32, rho_e32, np.float64(1.7)).phi.dtype == jnp.complex128
