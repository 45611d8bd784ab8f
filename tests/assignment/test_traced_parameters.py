"""Model C derivatives at the edges of a parameter study (docs/assignment.md §1, §4): a drive amplitude
traced outside ``jit`` against central finite differences, and a cold bosonic reservoir against the
closed form of the Bose occupation."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxthermo import GlobalModel, QuadraticReservoirs, energy_assignment

SM = jnp.array([[0.0, 1.0], [0.0, 0.0]])
N = jnp.diag(jnp.array([0.0, 1.0]))
SX = jnp.array([[0.0, 1.0], [1.0, 0.0]])
H_I = 0.4 * (jnp.kron(SM.T, SM) + jnp.kron(SM, SM.T)) + 0.12 * jnp.kron(N, jnp.eye(2))
RHO0 = jnp.kron(jnp.array([[0.3, 0.1], [0.1, 0.7]]), jnp.diag(jnp.array([0.8, 0.2]))).astype(complex)
TIMES = jnp.linspace(0.0, 2.0, 3)


def _driven(amplitude):
    """W̃_S, Q̃_X and the bare work of H_S(t) = n + a sin(2t) σ_x (the drive closes over a)."""
    model = GlobalModel(N, H_I, 1.3 * N, drive=lambda t: amplitude * jnp.sin(2.0 * t) * SX)
    out = energy_assignment(model, RHO0, TIMES, substeps=4)
    return jnp.concatenate([out.works[0], out.heats.ravel(), out.bare.work])


def test_derivative_with_respect_to_a_traced_drive_amplitude():
    """jax.grad/jacfwd through a drive whose amplitude is a tracer (was TracerArrayConversionError: the
    Hermiticity check of V(t) converted the traced values to NumPy)."""
    a = 0.3
    jac = np.asarray(jax.jacfwd(_driven)(a))  # outside jit: each closure is a new static drive
    value = jax.jit(_driven)  # one compilation for both difference points
    h = 1e-6
    fd = (np.asarray(value(a + h)) - np.asarray(value(a - h))) / (2 * h)
    assert np.max(np.abs(fd)) > 1e-2
    np.testing.assert_allclose(jac, fd, rtol=1e-7, atol=1e-9)


def _bose_energy(beta1):
    """Ũ_S(0) = Tr(h1 R_11(0)) of two bosonic all-to-all reservoirs (docs/assignment.md §4)."""
    model = QuadraticReservoirs.homogeneous(2, 2, 1.0, 0.5, 0.1, 0.05, beta1, 0.4, statistics="boson")
    return model.energetics(jnp.array([0.0, 0.5]), order=1).energies[0, 0]


def test_bosonic_energy_derivative_in_beta_is_finite_for_a_cold_reservoir():
    """∂Ũ_S(0)/∂β1 = −Σ_k ε_k² n_k(1 + n_k), n_k = 1/(e^{β1 ε_k} − 1), ε_k the eigenvalues of h1 (0.9, 1.1):
    finite and ≈ 0 at β1 ε ≈ 720…880 (was NaN, −eˣ/(eˣ − 1)² = inf/inf), exact at β1 = 2."""
    eps = np.linalg.eigvalsh(np.array([[1.0, 0.1], [0.1, 1.0]]))
    grad = jax.jit(jax.grad(_bose_energy))
    for beta1 in (2.0, 800.0):
        n = np.exp(-beta1 * eps) / -np.expm1(-beta1 * eps)
        expected = -np.sum(eps**2 * n * (1 + n))
        g = float(grad(beta1))
        assert np.isfinite(g)
        np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-300)
