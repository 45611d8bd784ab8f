"""Derivatives of the canonical form at equal canonical rates (docs/information.md §6, docs/assignment.md):
finite jump tangents, rates' tangents equal to central differences of the ascending rates, symmetric functions of
the rates against finite differences, and the rebuilt generator exact along perturbations that keep the
eigenspaces. Away from degeneracy the clustered eigendecomposition's tangent is JAX's own."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo.assignment as C
from jaxthermo._linalg import eigh_clustered
from tests.helpers import random_hermitian

SM = np.array([[0, 1], [0, 0]], complex)
SZ = np.diag([-0.5, 0.5]).astype(complex)
PAULI = np.stack([np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1.0, -1.0])]).astype(complex)
K = np.array([[0.3, 0.1 - 0.2j], [0.1 + 0.2j, -0.3]])
RHO = np.array([[0.6, 0.1 + 0.1j], [0.1 - 0.1j, 0.4]])
WEIGHTS = np.array([[1.0, 2.0], [3.0, 4.0]])

# (K, jumps, rates at s = 0, a direction of the rates): canonical rates (0.2, 0.2, 0.4) and the isotropic
# depolarising generator (0.2, 0.2, 0.2)
CASES = {
    "two_equal": (K, np.stack([SM, SM.T, 2 * SZ]), np.array([0.2, 0.2, 0.2]), np.array([0.1, -0.3, 0.2])),
    "depolarising": (np.zeros((2, 2), complex), PAULI / np.sqrt(2), np.array([0.2] * 3), np.array([0.1, -0.3, 0.2])),
}


def _generator(case, s, scale=0.0):
    k, jumps, rates, direction = CASES[case]
    return C.lindblad_generator((1 + scale) * k, (1 + scale) * (rates + s * direction), jumps)


def _central(f, h):
    return (np.asarray(f(h)) - np.asarray(f(-h))) / (2 * h)


@pytest.mark.parametrize("case", sorted(CASES))
def test_rates_and_jumps_have_finite_tangents_matching_central_differences(case):
    rates = lambda s: C.canonical_form(_generator(case, s), 2).rates
    assert np.ptp(np.asarray(rates(0.0))[:2]) < 1e-12  # a degenerate pair at least
    tangent = np.asarray(jax.jacfwd(rates)(0.0))
    cluster = np.abs(np.asarray(rates(0.0)) - np.asarray(rates(0.0))[0]) < 1e-12  # the lowest rate's equals
    for h in (1e-3, 1e-5):  # the ascending rates are piecewise linear in s (linear on fixed jumps): any h
        fd = _central(rates, h)
        # each equal rate takes the cluster's mean: a pair's central differences (e₁ + e₂)/2 each, a triple's
        # ((e₁ + e₃)/2, e₂, (e₁ + e₃)/2) for e the eigenvalues of the perturbation on the eigenspace
        np.testing.assert_allclose(tangent[cluster], np.mean(fd[cluster]), atol=1e-9)
        np.testing.assert_allclose(tangent[~cluster], fd[~cluster], atol=1e-9)
    jumps = jax.jacfwd(lambda s: C.canonical_form(_generator(case, s), 2).jumps)(0.0)
    assert np.all(np.isfinite(np.asarray(jumps))) and float(jnp.max(jnp.abs(jumps))) < 10.0  # JAX's rule: 10¹⁵


@pytest.mark.parametrize("case", sorted(CASES))
def test_symmetric_functions_of_the_rates_against_finite_differences(case):
    def f(s):
        r = C.canonical_form(_generator(case, s), 2).rates
        return jnp.sum(r**3) + jnp.sum(jnp.exp(-2.0 * r))

    fd = _central(f, 1e-4)
    for ad in (jax.grad(f)(0.0), jax.jacfwd(f)(0.0)):
        np.testing.assert_allclose(float(ad), fd, rtol=1e-7, atol=1e-9)  # depolarising: 0 (Σ direction = 0)


@pytest.mark.parametrize("case", sorted(CASES))
def test_rebuilt_generator_exact_along_a_perturbation_that_keeps_the_eigenspaces(case):
    """L ↦ (1 + s)L keeps every eigenspace of the decoherence matrix: the rebuilt generator equals (1 + s)L, linear."""

    def rebuilt(s):
        c = C.canonical_form(_generator(case, 0.0, scale=s), 2)
        return jnp.real(jnp.sum(WEIGHTS * C.lindblad_generator(c.hamiltonian, c.rates, c.jumps)(RHO)))

    exact = float(jnp.real(jnp.sum(WEIGHTS * _generator(case, 0.0)(RHO))))  # d/ds of (1 + s) L(ρ)
    for ad in (jax.grad(rebuilt)(0.0), jax.jacfwd(rebuilt)(0.0)):
        np.testing.assert_allclose(float(ad), exact, rtol=1e-10, atol=1e-12)


def test_rebuilt_generator_exact_at_distinct_rates():
    rng = np.random.default_rng(48)
    jumps = np.stack([random_hermitian(3, rng) + 1j * random_hermitian(3, rng) for _ in range(8)])
    rates, direction = rng.uniform(0.2, 1.0, size=8), rng.normal(size=8)
    h0, rho = random_hermitian(3, rng), np.diag([0.5, 0.3, 0.2]).astype(complex)
    gen = lambda s: C.lindblad_generator(h0, rates + s * direction, jumps)
    weights = rng.normal(size=(3, 3))

    def rebuilt(s):
        c = C.canonical_form(gen(s), 3)
        return jnp.real(jnp.sum(weights * C.lindblad_generator(c.hamiltonian, c.rates, c.jumps)(rho)))

    exact = float(jax.grad(lambda s: jnp.real(jnp.sum(weights * gen(s)(rho))))(0.0))
    assert np.min(np.diff(np.asarray(C.canonical_form(gen(0.0), 3).rates))) > 1e-3
    for ad in (jax.grad(rebuilt)(0.0), jax.jacfwd(rebuilt)(0.0)):
        np.testing.assert_allclose(float(ad), exact, rtol=1e-9)


def test_clustered_tangent_is_jax_own_away_from_degeneracy_and_finite_at_it():
    rng = np.random.default_rng(7)
    a, da = random_hermitian(4, rng), random_hermitian(4, rng)
    (w, v), (dw, dv) = jax.jvp(eigh_clustered, (jnp.asarray(a),), (jnp.asarray(da),))
    (w0, v0), (dw0, dv0) = jax.jvp(jnp.linalg.eigh, (jnp.asarray(a),), (jnp.asarray(da),))
    np.testing.assert_allclose(np.asarray(dw), np.asarray(dw0), atol=1e-13)
    np.testing.assert_allclose(np.asarray(dv), np.asarray(dv0), atol=1e-12)
    # a two-fold degenerate eigenvalue: the eigenvalue tangents of the pair are their mean, the trace of E on it/2
    u = np.linalg.qr(random_hermitian(4, rng) + 1j * random_hermitian(4, rng))[0]
    b = u @ np.diag([-1.0, 0.5, 0.5, 2.0]) @ u.conj().T
    (w, v), (dw, dv) = jax.jvp(eigh_clustered, (jnp.asarray(b),), (jnp.asarray(da),))
    e = np.asarray(v).conj().T @ da @ np.asarray(v)
    pair = 0.5 * np.real(e[1, 1] + e[2, 2])
    np.testing.assert_allclose(np.asarray(dw), [np.real(e[0, 0]), pair, pair, np.real(e[3, 3])], atol=1e-12)
    assert np.all(np.isfinite(np.asarray(dv))) and float(jnp.max(jnp.abs(dv))) < 10.0
    # the pair's trace of E is basis-independent: u's own basis gives the same
    np.testing.assert_allclose(2 * pair, np.real(np.trace(u[:, 1:3].conj().T @ da @ u[:, 1:3])), atol=1e-12)
