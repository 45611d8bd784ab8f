"""Model C derivatives at the edges of a parameter study (docs/assignment.md §1, §4): a drive amplitude
traced outside ``jit`` against central finite differences, a cold bosonic reservoir against the
closed form of the Bose occupation, and a float32 run with an explicit trace convention."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxthermo import GlobalModel, QuadraticReservoirs, energy_assignment, minimal_dissipation

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


def test_minimal_dissipation_in_float32_with_an_explicit_trace():
    """A float32 run stays float32 with ``trace=0.0`` (was complex128 K and float64 U^md, Q^md: the Python
    trace set canonical_form's dtype); Q^md does not depend on the trace (docs/assignment.md §3)."""
    f32 = np.float32
    sm, n = np.asarray(SM, f32), np.asarray(N, f32)
    model = GlobalModel(n, (0.4 * (np.kron(sm.T, sm) + np.kron(sm, sm.T))).astype(f32), (1.3 * n).astype(f32))
    rho_s, rho_e = np.array([[0.3, 0.1], [0.1, 0.7]], f32), np.diag([0.8, 0.2]).astype(f32)
    times = np.linspace(0.0, 1.0, 3).astype(f32)
    default = minimal_dissipation(model, rho_s, rho_e, times, order=2)
    zero = minimal_dissipation(model, rho_s, rho_e, times, order=2, trace=0.0)
    assert zero.hamiltonian.dtype == jnp.complex64 and zero.rates.dtype == jnp.float32
    assert zero.assignment.heat.dtype == jnp.float32 and zero.assignment.energy.dtype == jnp.float32
    np.testing.assert_allclose(zero.assignment.heat, default.assignment.heat, atol=1e-6)
