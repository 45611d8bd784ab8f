"""LAPACK-free eigenvalues of small Hermitian matrices, vectorised over the batch (docs/ensemble.md §2).

``jnp.linalg.eigvalsh`` on CPU calls LAPACK once per matrix; for d = 4…8 that per-call overhead
dominates the work. Here the batch is the vector lane: every matrix entry is a separate array of
the batch shape (real and imaginary parts apart), the algorithm is unrolled at trace time (but for
d ≥ 5 the repeated QR steps of one active size, a ``fori_loop``, which keeps the compile short) and has
a fixed operation count, so XLA compiles it to elementwise loops over the batch. XLA gives every
square root or division with several consumers an array of its own, so large batches go through
in blocks of 256 matrices (a ``lax.map``, on CPU only), and the Householder reduction, whose
intermediates are d × d per matrix, in sub-blocks of ≈ 4096/d² matrices within each block, so that
the intermediates stay in cache (d = 8: 2.7 against 5.4 µs per matrix in blocks of 256 alone;
benchmarks/RESULTS_ensemble.md). From d = 8 on, each Householder step's matrix is also materialised
(:func:`hermitian_to_tridiagonal`): XLA's CPU fusion otherwise recomputed every earlier step inside
each later one (eigenvalues of d = 8: 2.38 → 1.81 µs per matrix, d = 10: 6.9 → 3.3 µs).

1. Householder reduction of the Hermitian matrix to tridiagonal form (Golub & Van Loan,
   *Matrix Computations*, 4th ed., §8.3.1): step k reflects column k below the diagonal onto
   ‖x‖e₁ up to a phase; the phases do not change the spectrum (a diagonal unitary similarity
   makes every off-diagonal real and ≥ 0), so only |off-diagonal| = ‖x‖ is kept.
2. Eigenvalues of the real symmetric tridiagonal matrix by implicit QR steps with the Wilkinson
   shift (Golub & Van Loan §8.3.5, Algorithm 8.3.2), a fixed number per active size, deflating
   the bottom entry after each block of steps; a 2×2 closed form ends it. Where the bulge chase
   meets an already negligible coupling (≤ ε‖A‖) the chase restarts below it, which is the
   shifted step of the lower block of the split matrix (implicit-Q theorem, G&VL §8.3.3) — this
   keeps rank-deficient (pure) and degenerate spectra converging.

The returned eigenvalues are unsorted. For differentiation the JVP is the first-order
perturbation λ_k' = v_k† A' v_k with the eigenvectors of LAPACK ``eigh`` (the derivative of
``jnp.linalg.eigvalsh``), so gradients are LAPACK's; only the undifferentiated call is
LAPACK-free.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

# implicit QR steps on the k-th active block (k = 0: the full matrix) before its bottom eigenvalue
# is deflated (the last entry repeats). Chosen by measurement: on 10⁵ random Gaussian tridiagonal
# matrices of size 7 and 8 the largest error is 8·10⁻¹⁵ of the spectral radius (6, 6, 5, … leaves
# outliers of 10⁻⁵); the first block needs the most (the shift is still far from an eigenvalue).
_QR_STEPS = (7, 6, 5)

# largest d whose QR steps are unrolled at trace time: d = 3 takes 47.6 against 59.1 ns per matrix in a loop,
# d = 4 120.8 against 143.7 (the same numbers, bitwise), d = 5 is even and from d = 6 on the loop is faster
# (d = 8: 1.07 against 1.21 µs, and half the compile time); benchmarks/RESULTS_ensemble.md, session 51
_UNROLL_MAX_D = 4


def _hypot(x, y):
    return jnp.sqrt(x * x + y * y)


def _safe_div(num, den):
    ok = den != 0
    return jnp.where(ok, num / jnp.where(ok, den, 1.0), 0.0)


def hermitian_to_tridiagonal(re, im, materialise=False):
    """Diagonal and off-diagonal magnitudes (lists of batch arrays) of Hermitian matrices given as
    real and imaginary parts of shape (d, d, *batch), by Householder reflections (module docstring).

    ``materialise``: divide each step's reduced matrix by a runtime 1 (exact). XLA's CPU fusion duplicates
    a cheap elementwise producer into every consumer, so each step recomputed every earlier rank-2 update
    inline (d = 8: 1.33 µs per matrix); a division is an operation it does not duplicate, so each step's
    matrix is computed once (0.67 µs; benchmarks/RESULTS_ensemble.md, d = 8 and 9: materialised Householder steps)."""
    d = re.shape[0]
    diag, off = [], []
    # 1 in every lane unless that matrix has a non-finite corner (its eigenvalues are then non-finite anyway)
    one = 1.0 + 0.0 * re[0, 0] if materialise else None
    for _ in range(d - 2):
        diag.append(re[0, 0])
        xr, xi = re[1:, 0], im[1:, 0]
        br, bi = re[1:, 1:], im[1:, 1:]
        nx = jnp.sqrt(jnp.sum(xr * xr + xi * xi, axis=0))
        ax0 = _hypot(xr[0], xi[0])
        ph_r = jnp.where(ax0 > 0, _safe_div(xr[0], ax0), 1.0)
        ph_i = _safe_div(xi[0], ax0)
        tau = _safe_div(1.0, nx * (nx + ax0))
        vr = jnp.concatenate([(ph_r * (ax0 + nx))[None], xr[1:]], axis=0)
        vi = jnp.concatenate([(ph_i * (ax0 + nx))[None], xi[1:]], axis=0)
        off.append(nx)
        # p = τ B v, K = τ/2 v†p (real), w = p − K v; B ← B − v w† − w v†
        pr = tau * jnp.sum(br * vr[None] - bi * vi[None], axis=1)
        pi = tau * jnp.sum(br * vi[None] + bi * vr[None], axis=1)
        kk = 0.5 * tau * jnp.sum(vr * pr + vi * pi, axis=0)
        wr, wi = pr - kk * vr, pi - kk * vi
        re = br - (vr[:, None] * wr[None] + vi[:, None] * wi[None] + wr[:, None] * vr[None] + wi[:, None] * vi[None])
        im = bi - (vi[:, None] * wr[None] - vr[:, None] * wi[None] + wi[:, None] * vr[None] - wr[:, None] * vi[None])
        if materialise:
            re, im = re / one, im / one
    diag += [re[0, 0], re[1, 1]]
    off.append(_hypot(re[1, 0], im[1, 0]))
    return diag, off


def _wilkinson_shift(a, b, m):
    """Eigenvalue of the trailing 2×2 of the active m×m block closer to its bottom entry."""
    e = b[m - 2]
    half = 0.5 * (a[m - 2] - a[m - 1])
    sgn = jnp.where(half >= 0, 1.0, -1.0)
    den = half + sgn * _hypot(half, e)
    return a[m - 1] - _safe_div(e * e, den)


def _qr_step(a, b, m, tol):
    """One implicit Wilkinson-shifted QR step on the leading m×m block (lists updated in place)."""
    mu = _wilkinson_shift(a, b, m)
    x, z = a[0] - mu, b[0]
    for k in range(m - 1):
        if k > 0:
            dead = x * x + z * z <= tol * tol  # chase died at a split: restart below it
            x = jnp.where(dead, a[k] - mu, x)
            z = jnp.where(dead, b[k], z)
        r = _hypot(x, z)
        inv = _safe_div(1.0, r)  # one division for c and s
        c = jnp.where(r > 0, x * inv, 1.0)
        s = z * inv
        if k > 0:
            b[k - 1] = jnp.where(dead, b[k - 1], r)
        ak, ak1, bk = a[k], a[k + 1], b[k]
        cs, cc, ss = c * s, c * c, s * s
        a[k] = cc * ak + 2.0 * cs * bk + ss * ak1
        a[k + 1] = ss * ak - 2.0 * cs * bk + cc * ak1
        b[k] = cs * (ak1 - ak) + (cc - ss) * bk
        x = b[k]
        if k < m - 2:
            z = s * b[k + 1]
            b[k + 1] = c * b[k + 1]


def tridiagonal_eigenvalues(a, b, steps=None):
    """Eigenvalues (unsorted list) of the symmetric tridiagonal matrix with diagonal a and
    off-diagonal b (lists of batch arrays), by a fixed number of implicit QR steps per size."""
    steps = _QR_STEPS if steps is None else tuple(steps)
    a, b = list(a), list(b)
    d = len(a)
    eps = jnp.finfo(jnp.result_type(a[0])).eps
    tol = eps * jnp.sqrt(sum(x * x for x in a) + 2.0 * sum(x * x for x in b))
    out = []
    for m in range(d, 2, -1):
        n_steps = steps[min(d - m, len(steps) - 1)]
        if d <= _UNROLL_MAX_D:
            for _ in range(n_steps):
                _qr_step(a, b, m, tol)
        else:
            a, b = _qr_steps_in_a_loop(a, b, m, n_steps, tol)
        out.append(a[m - 1])
    return list(_eigenvalues_2x2(a[0], a[1], b[0])) + out[::-1]


def _qr_steps_in_a_loop(a, b, m, n_steps, tol):
    """``n_steps`` of :func:`_qr_step` in a ``fori_loop``: one traced step instead of n_steps (compile time)."""

    def body(_, ab):
        aa, bb = list(ab[0]), list(ab[1])
        _qr_step(aa, bb, m, tol)
        return jnp.stack(aa), jnp.stack(bb)

    a_arr, b_arr = jax.lax.fori_loop(0, n_steps, body, (jnp.stack(a), jnp.stack(b)))
    return list(a_arr), list(b_arr)


def _eigenvalues_2x2(a0, a1, b):
    """Eigenvalues of [[a0, b], [b, a1]]: the one of larger magnitude mid ± rad, the other det/that one,
    so that a graded block keeps its small eigenvalue to relative precision (mid − rad cancelled it to
    ~ε·|mid|: the e^{−40} eigenvalue of a cold qutrit came out 0, its D_1 ×4 off)."""
    mid, half = 0.5 * (a0 + a1), 0.5 * (a0 - a1)
    rad = _hypot(half, b)
    big = jnp.where(mid >= 0, mid + rad, mid - rad)
    return big, _safe_div(a0 * a1 - b * b, big)


# matrices per block (module docstring); the QR phase (2d − 1 arrays per matrix) runs best in blocks
# of 256…1024, the Householder reduction (2d² arrays per matrix) in sub-blocks of ≈ 4096/d²
# matrices, whose d × d intermediates then stay in the first-level cache (d = 8: 1.5 µs per
# matrix in sub-blocks of 64, 4.6 µs in blocks of 256; benchmarks/RESULTS_ensemble.md)
_BLOCK = 256
_MATERIALISE_FROM_D = 8  # from this d on, materialise each Householder step (hermitian_to_tridiagonal)


def _householder_block(d: int) -> int:
    """Sub-block of the Householder reduction: the least power of two from 8 (at most _BLOCK) whose
    2d² arrays per matrix exceed 4096 entries, i.e. ≈ 4096/d² matrices (d = 6…8: 64)."""
    size = 8
    while size * 2 * d * d <= 4096 and size < _BLOCK:
        size *= 2
    return size


def _eigvalsh_small_impl(h):
    d = h.shape[-1]
    batch = h.shape[:-2]
    flat = h.reshape((-1, d, d))
    n = flat.shape[0]
    if n > 2 * _BLOCK and jax.default_backend() == "cpu":  # on accelerators one vectorised pass
        n_blocks = -(-n // _BLOCK)
        pad = jnp.broadcast_to(jnp.eye(d, dtype=h.dtype), (n_blocks * _BLOCK - n, d, d))
        blocks = jnp.concatenate([flat, pad]).reshape((n_blocks, _BLOCK, d, d))
        lam = jax.lax.map(_eigvalsh_block, blocks).reshape((n_blocks * _BLOCK, d))[:n]
    else:
        lam = _eigvalsh_batch(flat)
    return lam.reshape(batch + (d,))


def _eigvalsh_block(block):
    """Eigenvalues (_BLOCK, d) of one CPU block: the reduction in cache-sized sub-blocks."""
    d = block.shape[-1]
    if d < 3:
        return _eigvalsh_batch(block)
    sub = _householder_block(d)
    tri = jax.lax.map(
        partial(_tridiagonal_stacked, materialise=d >= _MATERIALISE_FROM_D), block.reshape((_BLOCK // sub, sub, d, d))
    )
    return _stacked_eigenvalues(jnp.moveaxis(tri, 1, 0).reshape((2 * d - 1, _BLOCK)))


def _tridiagonal_stacked(flat, materialise=False):
    """Diagonal and off-diagonal (2d − 1, B) of the tridiagonal form of a flat batch (B, d, d)."""
    hb = jnp.moveaxis(flat, 0, -1)  # (d, d, B): the batch is the minor axis
    diag, off = hermitian_to_tridiagonal(jnp.real(hb), jnp.imag(hb), materialise)
    return jnp.stack(diag + off)


def _stacked_eigenvalues(ab):
    """Eigenvalues (B, d) of the tridiagonal matrices given as stacked (2d − 1, B) diagonal and off-diagonal."""
    d = (ab.shape[0] + 1) // 2
    return jnp.stack(tridiagonal_eigenvalues(list(ab[:d]), list(ab[d:])), axis=-1)


def _eigvalsh_batch(flat):
    """Eigenvalues (B, d) of a flat batch (B, d, d)."""
    d = flat.shape[-1]
    if d >= 3:
        return _stacked_eigenvalues(_tridiagonal_stacked(flat))
    hb = jnp.moveaxis(flat, 0, -1)  # (d, d, B): the batch is the minor axis
    re, im = jnp.real(hb), jnp.imag(hb)
    if d == 1:
        return re[0, 0][:, None]
    lam = tridiagonal_eigenvalues([re[0, 0], re[1, 1]], [_hypot(re[1, 0], im[1, 0])])
    return jnp.stack(lam, axis=-1)


@jax.custom_jvp
def eigvalsh_small(h):
    """Eigenvalues (unsorted) of Hermitian (..., d, d) matrices, small d, without LAPACK (module
    docstring); absolute error ≈ ε‖h‖. Derivatives are those of ``jnp.linalg.eigvalsh``."""
    return _eigvalsh_small_impl(h)


@eigvalsh_small.defjvp
def _eigvalsh_small_jvp(primals, tangents):
    (h,), (dh,) = primals, tangents
    w, v = jnp.linalg.eigh(h)
    dw = jnp.real(jnp.einsum("...ik,...ij,...jk->...k", jnp.conj(v), dh, v))
    return w.astype(jnp.real(h).dtype), dw.astype(jnp.real(h).dtype)
