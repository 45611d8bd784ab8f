"""The LAPACK-free small Hermitian eigenvalues (jaxthermo/ensemble/_small_eigvalsh.py).

Spectra are checked against spectra known by construction (U diag(λ) U† with Haar-random U, QR of
a complex Gaussian matrix: pure, degenerate, nearly degenerate, rank-deficient, diagonal) and
against ``numpy.linalg.eigvalsh`` on random full-rank states; derivatives against the LAPACK route
``jnp.linalg.eigvalsh`` and central differences; the tridiagonal stage against NumPy on matrices
that split (zero couplings) in the middle.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxthermo.ensemble._small_eigvalsh import eigvalsh_small, tridiagonal_eigenvalues
from tests.helpers import random_state


def _haar(rng, n, d):
    q, r = np.linalg.qr(rng.normal(size=(n, d, d)) + 1j * rng.normal(size=(n, d, d)))
    ph = np.diagonal(r, axis1=1, axis2=2)
    return q * (ph / np.abs(ph))[:, None, :]


def _known_spectra(rng, n, d):
    """(n, d) spectra with trace 1: pure, two-fold and higher degeneracies, rank 2, clusters 10⁻⁹ wide."""
    lam = rng.dirichlet(np.ones(d), size=n)
    kinds = np.arange(n) % 5
    lam[kinds == 0] = np.eye(d)[0]  # pure
    deg = rng.choice([0.0, 0.1, 0.3], size=(n, d))
    deg[:, 0] = 0.3
    lam[kinds == 1] = deg[kinds == 1]
    lam[kinds == 2, 2:] = 0.0  # rank 2
    clus = 0.2 + 1e-9 * rng.normal(size=(n, d))
    clus[:, 0] = 0.5
    lam[kinds == 3] = clus[kinds == 3]
    return lam / lam.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("d", [2, 3, 4, 5, 6, 7, 8])
def test_known_spectra_of_unitary_conjugations(d):
    rng = np.random.default_rng(d)
    n = 400
    lam = _known_spectra(rng, n, d)
    u = _haar(rng, n, d)
    rho = u @ (lam[:, :, None] * np.conj(np.swapaxes(u, 1, 2)))
    rho = 0.5 * (rho + np.conj(np.swapaxes(rho, 1, 2)))
    got = np.sort(np.asarray(jax.jit(eigvalsh_small)(jnp.asarray(rho))), axis=-1)
    # the conjugation itself is exact only to a few ε, so allow 1e-14 (‖ρ‖ ≤ 1)
    np.testing.assert_allclose(got, np.sort(lam, axis=-1), rtol=0, atol=1e-14)


@pytest.mark.parametrize("d", [4, 6, 8])
def test_random_states_and_diagonal_against_numpy(d):
    rng = np.random.default_rng(10 + d)
    rho = np.asarray([random_state(d, rng, rank=1 + k % d, diagonal=k % 7 == 0) for k in range(300)])
    got = np.sort(np.asarray(jax.jit(eigvalsh_small)(jnp.asarray(rho))), axis=-1)
    np.testing.assert_allclose(got, np.linalg.eigvalsh(rho), rtol=0, atol=1e-14)
    # a multiple of the identity has no couplings at all: every Householder vector is zero
    np.testing.assert_allclose(np.asarray(eigvalsh_small(jnp.eye(d, dtype=complex) / d)), np.full(d, 1 / d), atol=1e-16)


def test_large_norm_and_real_input():
    """Relative accuracy for large entries (the sandwiched matrices reach e^{±36}) and real symmetric input."""
    rng = np.random.default_rng(3)
    a = rng.normal(size=(50, 5, 5))
    a = (a + np.swapaxes(a, 1, 2)) * 1e15
    got = np.sort(np.asarray(eigvalsh_small(jnp.asarray(a))), axis=-1)
    ref = np.linalg.eigvalsh(a)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-14 * np.abs(ref).max())


def test_split_tridiagonal():
    """Couplings that vanish in the middle (the bulge chase restarts below them) and at the bottom."""
    rng = np.random.default_rng(4)
    n, d = 200, 7
    a = rng.normal(size=(d, n))
    b = np.abs(rng.normal(size=(d - 1, n)))
    b[2] = 0.0
    b[5, ::2] = 0.0
    got = np.sort(np.stack(tridiagonal_eigenvalues(list(jnp.asarray(a)), list(jnp.asarray(b))), -1), -1)
    t = np.zeros((n, d, d))
    idx = np.arange(d)
    t[:, idx, idx] = a.T
    t[:, idx[:-1] + 1, idx[:-1]] = t[:, idx[:-1], idx[:-1] + 1] = b.T
    ref = np.linalg.eigvalsh(t)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-14 * np.abs(ref).max())


@pytest.mark.parametrize("d", [5, 8])
def test_blocked_batches_equal_unblocked(d):
    """Batches above 2 blocks go through lax.map over blocks of _BLOCK matrices (the last padded with
    identities; the Householder reduction in 2 (d = 5) or 4 (d = 8) sub-blocks of each): the same
    values (to rounding), in the same order, as a few matrices at a time."""
    from jaxthermo.ensemble._small_eigvalsh import _BLOCK, _householder_block

    assert _BLOCK // _householder_block(d) == {5: 2, 8: 4}[d]
    rng = np.random.default_rng(17)
    n = 4 * _BLOCK + 37  # not a multiple of the block
    rho = np.asarray([random_state(d, rng, rank=1 + k % d) for k in range(n)]).reshape(1, n, d, d)
    got = np.asarray(jax.jit(eigvalsh_small)(jnp.asarray(rho)))
    assert got.shape == (1, n, d)
    small = jax.jit(eigvalsh_small)  # one program per batch shape (100 and the rest), not one per operation
    few = np.concatenate([np.asarray(small(jnp.asarray(rho[0, i : i + 100]))) for i in range(0, n, 100)])
    np.testing.assert_allclose(got[0], few, rtol=0, atol=5e-15)  # the compiled loops may contract differently
    np.testing.assert_allclose(np.sort(got[0], -1), np.linalg.eigvalsh(rho[0]), rtol=0, atol=1e-14)


def test_batch_shapes():
    rng = np.random.default_rng(5)
    rho = np.asarray([random_state(4, rng) for _ in range(6)]).reshape(2, 3, 4, 4)
    got = np.asarray(eigvalsh_small(jnp.asarray(rho)))
    assert got.shape == (2, 3, 4)
    np.testing.assert_allclose(np.sort(got, -1), np.linalg.eigvalsh(rho), atol=1e-14)
    one = np.asarray(eigvalsh_small(jnp.asarray(rho[1, 2])))
    assert one.shape == (4,)
    np.testing.assert_allclose(np.sort(one), np.linalg.eigvalsh(rho[1, 2]), atol=1e-14)
    vm = np.asarray(jax.vmap(eigvalsh_small)(jnp.asarray(rho[0])))
    np.testing.assert_allclose(np.sort(vm, -1), np.linalg.eigvalsh(rho[0]), atol=1e-14)


@pytest.mark.parametrize("d", [6, 8])
def test_float32(d):
    rng = np.random.default_rng(d)
    rho = np.asarray([random_state(d, rng, rank=1 + k % d) for k in range(100)])
    got = eigvalsh_small(jnp.asarray(rho, dtype=jnp.complex64))
    assert got.dtype == jnp.float32
    np.testing.assert_allclose(np.sort(np.asarray(got), -1), np.linalg.eigvalsh(rho), rtol=0, atol=2e-6)


@pytest.mark.parametrize("d", [4, 7])
def test_gradient_equals_lapack_route(d):
    """jax.grad of Σ f(λ) through eigvalsh_small against jnp.linalg.eigvalsh and against central
    differences, on random full-rank states."""
    rng = np.random.default_rng(20 + d)
    rho = jnp.asarray(np.asarray([random_state(d, rng) for _ in range(5)]))
    h = rng.normal(size=(5, d, d)) + 1j * rng.normal(size=(5, d, d))
    h = jnp.asarray(0.05 * (h + np.conj(np.swapaxes(h, 1, 2))))

    def total(eig):
        return lambda x: jnp.sum(jnp.log(eig(rho + x * h)) * eig(rho + x * h) + eig(rho + x * h) ** 3)

    g_small = jax.grad(total(eigvalsh_small))(0.0)
    g_lapack = jax.grad(total(jnp.linalg.eigvalsh))(0.0)
    np.testing.assert_allclose(g_small, g_lapack, rtol=1e-12)
    eps = 1e-6
    fd = (total(eigvalsh_small)(eps) - total(eigvalsh_small)(-eps)) / (2 * eps)
    np.testing.assert_allclose(g_small, fd, rtol=1e-6)
    grad_rho = jax.grad(lambda r: jnp.sum(eigvalsh_small(r) ** 2))(rho)  # d Tr ρ² / dρ
    np.testing.assert_allclose(grad_rho, jax.grad(lambda r: jnp.sum(jnp.linalg.eigvalsh(r) ** 2))(rho), atol=1e-12)


@pytest.mark.parametrize("d", [4, 8])
def test_materialised_reduction_equals_plain(d):
    """The Householder reduction with each step's matrix divided by a runtime 1 (the CPU blocks from
    d = 8 on, so that XLA computes each step once) gives the plain reduction's tridiagonal form to rounding,
    pure and degenerate spectra included, and NumPy's eigenvalues."""
    from jaxthermo.ensemble._small_eigvalsh import hermitian_to_tridiagonal

    rng = np.random.default_rng(23)
    lam = _known_spectra(rng, 200, d)
    rho = np.einsum("nij,nj,nkj->nik", (u := _haar(rng, 200, d)), lam, u.conj())
    hb = jnp.moveaxis(jnp.asarray(rho), 0, -1)

    def tri(materialise):
        diag, off = hermitian_to_tridiagonal(jnp.real(hb), jnp.imag(hb), materialise)
        return jnp.stack(diag), jnp.stack(off)

    (a0, b0), (a1, b1) = (map(np.asarray, jax.jit(lambda m=m: tri(m))()) for m in (False, True))
    np.testing.assert_allclose(a1, a0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(b1, b0, rtol=0, atol=1e-15)
    got = np.sort(np.stack(tridiagonal_eigenvalues(list(a1), list(b1)), -1), -1)
    np.testing.assert_allclose(got, np.sort(lam, -1), rtol=0, atol=2e-15 * d)


def test_non_finite_matrix_stays_in_its_lane():
    """A matrix with a non-finite entry gets non-finite eigenvalues and leaves every other matrix of its
    block exact (the runtime 1 of the materialised reduction is taken per matrix, d = 8, blocked path)."""
    from jaxthermo.ensemble._small_eigvalsh import _BLOCK

    rng = np.random.default_rng(29)
    n = 3 * _BLOCK
    rho = np.asarray([random_state(8, rng) for _ in range(n)])
    bad = rho.copy()
    bad[0, 0, 0], bad[300, 3, 2], bad[300, 2, 3] = np.nan, np.inf, np.inf
    got = np.asarray(jax.jit(eigvalsh_small)(jnp.asarray(bad)))
    assert not np.isfinite(got[0]).any() and not np.isfinite(got[300]).all()
    ok = np.ones(n, bool)
    ok[[0, 300]] = False  # 0: the first lane of its block
    np.testing.assert_allclose(np.sort(got[ok], -1), np.linalg.eigvalsh(rho[ok]), rtol=0, atol=1e-14)


@pytest.mark.parametrize("d", [3, 4, 5])
def test_unrolled_qr_steps_are_the_loop_of_the_same_steps(d, monkeypatch):
    """QR steps unrolled at trace time (d ≤ 4, the faster program there) and in a fori_loop (d ≥ 5, the shorter
    compile) are the same operations: the same eigenvalues to the last bit, under jit, for random and pure states."""
    from jaxthermo.ensemble import _small_eigvalsh

    rng = np.random.default_rng(d)
    lam = _known_spectra(rng, 400, d)
    u = _haar(rng, 400, d)
    h = jnp.asarray(np.einsum("nij,nj,nkj->nik", u, lam, u.conj()))
    got = {}
    for unroll in (8, 0):  # every d unrolled; every d in a loop
        monkeypatch.setattr(_small_eigvalsh, "_UNROLL_MAX_D", unroll)
        got[unroll] = np.asarray(jax.jit(_small_eigvalsh._eigvalsh_small_impl)(h))
    np.testing.assert_array_equal(got[8], got[0])
    np.testing.assert_allclose(np.sort(got[8], axis=-1), np.sort(lam, axis=-1), atol=32 * np.finfo(float).eps)
