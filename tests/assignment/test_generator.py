"""Canonical form ([HCLA14]): three sanity cases (unitary generator, traceless dissipator, shifted
jump), reconstruction, and the superoperator against QuTiP's Liouvillian (docs/assignment.md)."""

import jax.numpy as jnp
import numpy as np
import pytest
import qutip

from jaxthermo import canonical_hamiltonian
from jaxthermo._superoperators import superoperator
from jaxthermo.assignment import canonical_form, lindblad_generator, non_markovian_intervals
from tests.helpers import random_hermitian as _hermitian
from tests.helpers import random_traceless as _traceless


@pytest.mark.parametrize("d", [2, 3, 4])
def test_unitary_generator_gives_its_hamiltonian(d):
    rng = np.random.default_rng(d)
    h = _hermitian(d, rng)
    gen = lambda r: -1j * (h @ r - r @ h)
    k = canonical_hamiltonian(gen, d, trace=np.trace(h).real)
    np.testing.assert_allclose(k, h, atol=1e-13)
    k0 = canonical_hamiltonian(gen, d)  # default: traceless
    np.testing.assert_allclose(k0, h - np.trace(h) / d * np.eye(d), atol=1e-13)


@pytest.mark.parametrize("d", [2, 3])
def test_dissipator_with_traceless_jumps_has_no_hamiltonian(d):
    rng = np.random.default_rng(10 + d)
    jumps = np.stack([_traceless(d, rng) for _ in range(3)])
    gen = lindblad_generator(jnp.zeros((d, d), complex), jnp.array([0.7, 0.2, 1.3]), jnp.asarray(jumps))
    np.testing.assert_allclose(canonical_hamiltonian(gen, d), 0.0, atol=1e-13)


@pytest.mark.parametrize("d", [2, 3])
def test_jump_shift_moves_exactly_into_hamiltonian(d):
    """A jump L + c·1 (L traceless, rate 1) adds (i/2)(c̄L − cL†) to K."""
    rng = np.random.default_rng(20 + d)
    l_op = _traceless(d, rng)
    c = 0.4 - 0.9j
    gen = lindblad_generator(jnp.zeros((d, d), complex), jnp.array([1.0]), jnp.asarray((l_op + c * np.eye(d))[None]))
    expected = 0.5j * (np.conj(c) * l_op - c * l_op.conj().T)
    np.testing.assert_allclose(canonical_hamiltonian(gen, d), expected, atol=1e-13)


def test_canonical_form_recovers_rates_and_reconstructs_generator():
    """Orthonormal traceless jumps with signed rates: rates recovered, generator rebuilt exactly."""
    d = 3
    rng = np.random.default_rng(3)
    # orthonormal traceless jumps: a random unitary acting on an orthonormal traceless basis
    basis = [np.diag([1, -1, 0]) / np.sqrt(2), np.diag([1, 1, -2]) / np.sqrt(6)]
    for i in range(d):
        for j in range(d):
            if i != j:
                e = np.zeros((d, d))
                e[i, j] = 1
                basis.append(e)
    basis = np.array(basis, dtype=complex)
    z = rng.normal(size=(8, 8)) + 1j * rng.normal(size=(8, 8))
    q, _ = np.linalg.qr(z)
    jumps = np.einsum("bk,bij->kij", q, basis)
    rates = np.array([-0.3, 0.0, 0.1, 0.2, 0.5, 0.8, 1.1, 2.0])
    k = _hermitian(d, rng)
    gen = lindblad_generator(jnp.asarray(k), jnp.asarray(rates), jnp.asarray(jumps))
    form = canonical_form(gen, d, trace=np.trace(k).real)
    np.testing.assert_allclose(form.rates, rates, atol=1e-12)
    np.testing.assert_allclose(form.hamiltonian, k, atol=1e-12)
    np.testing.assert_allclose(np.trace(form.jumps, axis1=1, axis2=2), 0.0, atol=1e-13)
    gram = np.einsum("aij,bij->ab", np.conj(form.jumps), form.jumps)
    np.testing.assert_allclose(gram, np.eye(8), atol=1e-12)
    rebuilt = lindblad_generator(form.hamiltonian, form.rates, form.jumps)
    rho = _hermitian(d, rng)
    np.testing.assert_allclose(rebuilt(jnp.asarray(rho)), gen(jnp.asarray(rho)), atol=1e-12)


def test_superoperator_matches_qutip_liouvillian():
    d = 3
    rng = np.random.default_rng(4)
    h = _hermitian(d, rng)
    jumps = [_traceless(d, rng) for _ in range(2)]
    gen = lindblad_generator(jnp.asarray(h), jnp.ones(2), jnp.asarray(np.stack(jumps)))
    ours = np.asarray(superoperator(gen, d))
    ref = qutip.liouvillian(qutip.Qobj(h), [qutip.Qobj(j) for j in jumps]).full()
    # QuTiP stacks columns: vec_col(X) = vec_row(Xᵀ); permute to row-major
    perm = np.arange(d * d).reshape(d, d).T.reshape(-1)
    np.testing.assert_allclose(ours, ref[np.ix_(perm, perm)], atol=1e-12)


def test_non_markovian_intervals():
    t = np.linspace(0, 1, 11)
    rates = np.ones((11, 3))
    rates[2:5, 1] = -0.1
    rates[9:, 0] = -1.0
    assert non_markovian_intervals(t, rates) == [(0.2, pytest.approx(0.4)), (pytest.approx(0.9), 1.0)]
    assert non_markovian_intervals(t, np.ones((11, 3))) == []


def test_a_float32_generator_keeps_float32_with_the_default_trace():
    """The default trace (a Python 0.0) made K, γ and L complex128/float64 for a complex64 generator;
    now the generator's precision. Known K (traceless) and rates recovered to float32 accuracy; a
    float64 generator still gives float64."""
    d = 2
    k = np.array([[0.3, 0.2 - 0.1j], [0.2 + 0.1j, -0.3]])
    sm = np.array([[0.0, 1.0], [0.0, 0.0]])
    jumps = np.stack([sm, sm.T, np.diag([1.0, -1.0]) / np.sqrt(2)]).astype(complex)
    rates = np.array([0.2, 0.7, 1.1])
    gen32 = lindblad_generator(
        jnp.asarray(k, jnp.complex64), jnp.asarray(rates, jnp.float32), jnp.asarray(jumps, jnp.complex64)
    )
    form = canonical_form(gen32, d)
    assert form.hamiltonian.dtype == jnp.complex64 and form.jumps.dtype == jnp.complex64
    assert form.rates.dtype == jnp.float32
    np.testing.assert_allclose(np.sort(form.rates), np.sort(rates), atol=2e-6)
    np.testing.assert_allclose(form.hamiltonian, k, atol=2e-6)
    assert canonical_hamiltonian(gen32, d).dtype == jnp.complex64
    gen64 = lindblad_generator(jnp.asarray(k), jnp.asarray(rates), jnp.asarray(jumps))
    assert canonical_form(gen64, d).hamiltonian.dtype == jnp.complex128
    assert canonical_hamiltonian(gen32, d, trace=np.float64(0.0)).dtype == jnp.complex128  # an explicit dtype wins
