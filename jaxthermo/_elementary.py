"""float64 logarithm, inverse error function and normal draws in vectorisable arithmetic.

XLA's CPU backend evaluates a float64 ``log`` by calling the C library once per element
(``llvm.log.v4f64`` is scalarised), so its ``erf_inv`` — and with it ``jax.random.normal`` in
float64 — costs ≈ 17 ns per draw on one core, the largest single cost of a qubit collision in the
ensemble engine. These versions use only arithmetic, bit operations and ``sqrt``, which the
compiler vectorises (figures in benchmarks/RESULTS_ensemble.md):

* :func:`log`: the reduction of fdlibm's ``e_log.c`` (x = 2^k m, m ∈ [√½, √2), log m = 2 artanh s,
  s = (m − 1)/(m + 1), a degree-14 odd polynomial); error ≤ 1 ulp, special values as ``jnp.log``.
  The ensemble's divergences take it for their per-configuration logarithms (:func:`log_positive`
  where the argument is positive by construction).
* :func:`erf_inv`: M. Giles, "Approximating the erfinv function", GPU Computing Gems Jade Edition
  (2011), double-precision version with three branches in w = −log(1 − x²) (the coefficients XLA
  uses); 1 − x² is formed as (1 − x)(1 + x), which keeps it accurate near |x| = 1.
* :func:`standard_normal`: ``√2 erf_inv(u)`` of the same uniform u ∈ (−1, 1) as
  ``jax.random.normal``, whose threefry bits it reproduces exactly for threefry keys (JAX's default
  ``jax_threefry_partitionable`` counter layout). The draws equal ``jax.random.normal``'s to
  2·10⁻¹¹ relative and are within 8 ulp of √2 erfinv(u) (SciPy), where JAX's own are off by up
  to 6·10⁴ ulp near |u| = 1 (tested). Other dtypes and key types use ``jax.random.normal``.
* :func:`standard_normal_columns`: the same draws for many keys at once, one key per column of an
  (n, B) array, computed in that layout (the ensemble's scan reads one row per collision; drawn
  per key and transposed, the chunk's draws would cross memory twice more).

On CPU the compiler vectorises them only where XLA's split of a loop over the cores divides the
loop's length; otherwise they run scalar, slower than the C library. The ensemble engine's default
per-device chunk sizes are multiples of 64 for this reason.

The threefry hash (J. Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11) is
written out round by round; JAX's CPU lowering rolls it into a loop.

GPU kernels trace these functions inside :func:`division_free`: the logarithm's one division
s = f/(2 + f) becomes f times a reciprocal from a linear seed and two Newton steps (multiply-adds
only). A float64 division compiles on NVIDIA GPUs to a reciprocal seed, Newton steps and a branch to
a slow path whose register moves cost more than the arithmetic; on CPUs the division is cheaper.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ._dtypes import real_dtype
from ._trace_setting import TraceSetting

_LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that k·ln2_hi is exact (fdlibm)
_LN2_LO = 1.90821492927058770002e-10
_LG = (  # fdlibm e_log.c: R(z) ≈ 2 artanh(s)/s − 2 − ..., z = s²
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
)


# 1/y for y = 2 + f ∈ [1 + √½, 1 + √2] (the reduction of _log64): the linear seed c0 + c1·y of least
# relative error (1 − y(c0 + c1 y) equioscillates at both ends and at the midpoint: c0 = −c1(a + b),
# c1 = −2/(ab + (a + b)²/4), error 1 + c1·ab = 1.49·10⁻²), then two cubic Newton steps
# r ← r + r(e + e²), e = 1 − y r: error 1.49·10⁻² → 3.3·10⁻⁶ → 3.7·10⁻¹⁷, below float64 rounding
_RECIP_A, _RECIP_B = 1.0 + math.sqrt(0.5), 1.0 + math.sqrt(2.0)
_RECIP_C1 = -2.0 / (_RECIP_A * _RECIP_B + (_RECIP_A + _RECIP_B) ** 2 / 4.0)
_RECIP_C0 = -_RECIP_C1 * (_RECIP_A + _RECIP_B)
_DIVISION_FREE = TraceSetting("division_free", False)


def division_free():
    """Trace the float64 :func:`log`, :func:`log_positive` and :func:`erf_inv` without a float64
    division inside this ``with`` block (for a GPU kernel's body; the same values within 1 ulp, tested)."""
    return _DIVISION_FREE.set_to(True)


def _reciprocal_of_two_plus(y):
    """1/y for y ∈ [1 + √½, 1 + √2] by multiply-adds: seed and two cubic Newton steps (see above)."""
    r = _RECIP_C0 + _RECIP_C1 * y
    for _ in range(2):
        e = 1.0 - y * r
        r = r + r * (e + e * e)
    return r


def _is_float64(x) -> bool:
    return jnp.asarray(x).dtype == jnp.float64


def _log_series(s):
    """fdlibm's R(s²) ≈ 2 artanh(s)/s − 2 (minimax for |s| ≤ 0.1716): ``log(1 + f) = 2s + s R``, s = f/(2 + f)."""
    z = s * s
    w = z * z
    return z * (_LG[0] + w * (_LG[2] + w * (_LG[4] + w * _LG[6]))) + w * (_LG[1] + w * (_LG[3] + w * _LG[5]))


def _reduce64(x):
    """fdlibm's reduction of a positive normal float64 x = 2^k (1 + f), √½ − 1 < f ≤ √2 − 1 (vectorisable):
    ``(k, f, s, R, f²/2)`` with f exact, s = f/(2 + f) and R = :func:`_log_series` (s)."""
    bits = lax.bitcast_convert_type(x, jnp.int64)
    m = lax.bitcast_convert_type((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000, jnp.float64)  # [1, 2)
    big = m > math.sqrt(2.0)
    m = jnp.where(big, 0.5 * m, m)
    k = ((bits >> 52) - 1023 + big.astype(jnp.int64)).astype(jnp.int32).astype(jnp.float64)
    f = m - 1.0
    s = f * _reciprocal_of_two_plus(2.0 + f) if _DIVISION_FREE.get() else f / (2.0 + f)
    return k, f, s, _log_series(s), 0.5 * f * f


def _log_reduced(k, f, s, r, hfsq):
    """log x from :func:`_reduce64` (x): ``k ln 2 + f − f²/2 + s(f²/2 + R)`` (fdlibm ``e_log.c``)."""
    return k * _LN2_HI - ((hfsq - (s * (hfsq + r) + k * _LN2_LO)) - f)


def _log64(x):
    """log x for positive normal float64 x in vectorisable arithmetic (fdlibm ``e_log.c``), ≤ 1 ulp.
    No special cases (zero, subnormal, infinite, NaN): :func:`log` handles them; :func:`erf_inv`
    passes (1 − x)(1 + x) ∈ (0, 1]."""
    return _log_reduced(*_reduce64(x))


def xlogx_gap(x):
    """``(1 + x) log(1 + x) − x ≥ 0``, accurate relative to its value (≈ x²/2 for small x), for x > −1; −x for
    x ≤ −1 (the limit u log u → 0 at u = 1 + x → 0). Its derivative is log(1 + x) (floored at the smallest
    normal number's logarithm).

    Where 1 + x rounds to u in (√½, √2] (fdlibm's reduced range, f = u − 1 exact): ``f s + (1 + f) s R``
    (s = f/(2 + f), log(1 + f) = 2s + sR: (1 + f)·2s − f = f s exactly, so nothing cancels) plus the Taylor step
    ``e log(1 + f) + e²/2`` from f to x, e = x − f the rounding of 1 + x. Beyond it ``u log u − x`` (which
    overflows for u ≳ 10³⁰⁵: :func:`xlogx_gap_and_log` gives log u for a scaled form). The form
    ``u log u − (u − 1)`` relied on u − 1 being exact, which XLA's simplifier rewrites to x under ``jit``
    (``(1 + y) − 1 → y``): ~εu absolute, relative error ε/x² (1 at x = 10⁻⁸). float64 shares the logarithm's own
    reduction (one division, one polynomial: the cost of :func:`log_positive`); other dtypes s = x/(2 + x) beside
    ``jnp.log``."""
    return xlogx_gap_and_log(x)[0]


def xlogx_gap_and_log(x):
    """(:func:`xlogx_gap` (x), log u) with u = max(1 + x, smallest normal number) rounded, from one logarithm."""
    x = jnp.asarray(x)
    if _is_float64(x):
        return _xlogx_gap_and_log64(x)
    tiny = jnp.finfo(x.dtype).tiny
    u = jnp.maximum(1.0 + x, tiny)
    near = (x > math.sqrt(0.5) - 1.0) & (x <= math.sqrt(2.0) - 1.0)
    xs = jnp.where(near, x, 0.0)
    s = xs / (2.0 + xs)
    log_u = jnp.log(u)
    return jnp.where(near, xs * s + (1.0 + xs) * (s * _log_series(s)), u * log_u - x), log_u


def _xlogx_gap_parts64(x):
    """The float64 parts of :func:`xlogx_gap_and_log` from one reduction of u = 1 + x: (gap, log u, e, u, k = 0)."""
    u = 1.0 + x
    u_c = jnp.maximum(u, _TINY64)  # u ≤ 0: the smallest normal number, u log u ~ 10⁻³⁰⁵
    finite = u_c < jnp.inf  # +∞ and NaN pass through
    k, f, s, r, hfsq = _reduce64(jnp.where(finite, u_c, 1.0))
    log_u = jnp.where(finite, _log_reduced(k, f, s, r, hfsq), u)
    e = x - f  # k = 0: the rounding of 1 + x, exact
    reduced = k == 0.0
    near = f * s + (1.0 + f) * (s * r) + e * (log_u + 0.5 * e)
    gap = jnp.where(finite, jnp.where(reduced, near, u_c * log_u - x), u)
    return gap, log_u, e, u_c, reduced


@jax.custom_jvp
def _xlogx_gap_and_log64(x):
    return _xlogx_gap_parts64(x)[:2]


@_xlogx_gap_and_log64.defjvp
def _xlogx_gap_and_log64_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    _, _, e, u_c, reduced = _xlogx_gap_parts64(x)
    # d gap/dx = log(1 + x): log u + e/u with the rounding e of u (log u alone was 0 for |x| < ε/2); both built
    # from differentiable parts (the reduction's bit operations have no derivative): log u by log_positive's rule,
    # e a constant, so a second derivative is 1/u (ΔD_1's gradient differentiates the D_1 JVP)
    log_u = _log64_positive(u_c)
    log1p_x = jnp.where(reduced, log_u + lax.stop_gradient(e) / u_c, log_u)
    return _xlogx_gap_and_log64(x), (log1p_x * dx, dx / u_c)


@jax.custom_jvp
def _log64_any(x):
    pos = x > 0.0
    tiny = x < np.finfo(np.float64).tiny  # subnormal: scaled into the normal range (no-op where flushed)
    y = jnp.where(pos, jnp.where(tiny, x * 2.0**54, x), 1.0)
    # float64 constants, not Python floats: Pallas's Triton lowering gives a select between two
    # weakly typed constants the predicate's type (the GPU tile kernel evaluates this function)
    scale = jnp.where(tiny, np.float64(54.0 * math.log(2.0)), np.float64(0.0))
    val = _log64(jnp.where(y == jnp.inf, 1.0, y)) - scale
    val = jnp.where(x == jnp.inf, jnp.inf, val)
    return jnp.where(pos, val, jnp.where(x == 0.0, np.float64(-np.inf), np.float64(np.nan)))


@_log64_any.defjvp
def _log64_any_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return _log64_any(x), dx / x


def log(x):
    """Natural logarithm: float64 in vectorisable arithmetic (≤ 1 ulp; 0 → −∞, x < 0 or NaN → NaN,
    +∞ → +∞), other dtypes ``jnp.log``. For per-configuration arrays; a scalar is cheaper with
    ``jnp.log`` (XLA would evaluate this one per element of the array it is broadcast to)."""
    x = jnp.asarray(x)
    return _log64_any(x) if _is_float64(x) else jnp.log(x)


_TINY64 = float(np.finfo(np.float64).tiny)


@jax.custom_jvp
def _log64_positive(x):
    val = _log64(jnp.maximum(x, _TINY64))
    return jnp.where(x < jnp.inf, val, x)  # NaN and +∞ pass through


@_log64_positive.defjvp
def _log64_positive_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return _log64_positive(x), dx / x


def largest(x):
    """max over the last axis, with the tangent of the one entry ``argmax`` picks. ``jnp.max`` finds its
    tangent by equality with the maximum, which XLA's recomputation of an entry in another fusion (other
    rounding) can break under ``jit``: the tangent was then 0 (∂D_∞ of a qutrit, vmapped tangents)."""
    idx = jnp.argmax(jax.lax.stop_gradient(x), axis=-1)
    return jnp.take_along_axis(x, idx[..., None], axis=-1)[..., 0]


def log_positive(x):
    """log x for arguments positive by construction (eigenvalues of a state, μ₊ of a sandwiched
    2×2): float64 as :func:`log` but without its zero, negative and subnormal cases — values below
    the smallest normal float64 (and ≤ 0) count as it (log = −708.4); NaN and +∞ pass through.
    ≈ 0.7 ns per element cheaper than :func:`log` on CPU. Other dtypes ``jnp.log``."""
    x = jnp.asarray(x)
    return _log64_positive(x) if _is_float64(x) else jnp.log(x)


@jax.custom_jvp
def reciprocal(x):
    """1/x, whose derivative −(dx/x)/x stays finite where x² underflows (JAX's −dx/x² is −∞·dx, NaN after
    a 0 cotangent: the D_1 term of a thermal level t < 10⁻¹⁵⁴ in float64, 10⁻¹⁹ in float32)."""
    return 1.0 / x


@reciprocal.defjvp
def _reciprocal_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    r = 1.0 / x
    return r, -((dx * r) * r)


# Giles (2011), double precision, highest degree first: w < 6.25 in w − 3.125; w < 16 in
# √w − 3.25; else √w − 5
_ERFINV_CENTRAL = (
    -3.6444120640178196996e-21, -1.685059138182016589e-19, 1.2858480715256400167e-18,
    1.115787767802518096e-17, -1.333171662854620906e-16, 2.0972767875968561637e-17,
    6.6376381343583238325e-15, -4.0545662729752068639e-14, -8.1519341976054721522e-14,
    2.6335093153082322977e-12, -1.2975133253453532498e-11, -5.4154120542946279317e-11,
    1.051212273321532285e-09, -4.1126339803469836976e-09, -2.9070369957882005086e-08,
    4.2347877827932403518e-07, -1.3654692000834678645e-06, -1.3882523362786468719e-05,
    0.0001867342080340571352, -0.00074070253416626697512, -0.0060336708714301490533,
    0.24015818242558961693, 1.6536545626831027356,
)  # fmt: skip
_ERFINV_TAIL = (
    2.2137376921775787049e-09, 9.0756561938885390979e-08, -2.7517406297064545428e-07,
    1.8239629214389227755e-08, 1.5027403968909827627e-06, -4.013867526981545969e-06,
    2.9234449089955446044e-06, 1.2475304481671778723e-05, -4.7318229009055733981e-05,
    6.8284851459573175448e-05, 2.4031110387097893999e-05, -0.0003550375203628474796,
    0.00095328937973738049703, -0.0016882755560235047313, 0.0024914420961078508066,
    -0.0037512085075692412107, 0.005370914553590063617, 1.0052589676941592334,
    3.0838856104922207635,
)  # fmt: skip
_ERFINV_FAR_TAIL = (
    0.0, 0.0,  # padding: one Horner loop evaluates both tail polynomials
    -2.7109920616438573243e-11, -2.5556418169965252055e-10, 1.5076572693500548083e-09,
    -3.7894654401267369937e-09, 7.6157012080783393804e-09, -1.4960026627149240478e-08,
    2.9147953450901080826e-08, -6.7711997758452339498e-08, 2.2900482228026654717e-07,
    -9.9298272942317002539e-07, 4.5260625972231537039e-06, -1.9681778105531670567e-05,
    7.5995277030017761139e-05, -0.00021503011930044477347, -0.00013871931833623122026,
    1.0103004648645343977, 4.8499064014085844221,
)  # fmt: skip


def _erf_inv64_central(x):
    """w = −log(1 − x²) and the central branch's polynomial (used where w < 6.25)."""
    w = -_log64((1.0 - x) * (1.0 + x))
    t = w - 3.125
    p = jnp.full_like(t, _ERFINV_CENTRAL[0])
    for c in _ERFINV_CENTRAL[1:]:
        p = c + p * t
    return w, p


def _erf_inv64_tails(w, p):
    """The tail branches' polynomials where w ≥ 6.25 (in √w − 3.25 below 16, √w − 5 above), else ``p``."""
    near = w < 16.0
    f64 = np.float64  # typed constants for Pallas's Triton lowering (see _log64_any)
    t = jnp.sqrt(w) - jnp.where(near, f64(3.25), f64(5.0))
    q = jnp.where(near, f64(_ERFINV_TAIL[0]), f64(_ERFINV_FAR_TAIL[0]))
    for a, b in zip(_ERFINV_TAIL[1:], _ERFINV_FAR_TAIL[1:], strict=True):
        q = jnp.where(near, f64(a), f64(b)) + q * t
    return jnp.where(w < 6.25, p, q)


def _erf_inv64(x, branch_tails: bool = False):
    """``branch_tails``: evaluate the tails only where some element needs them (``lax.cond`` on the
    whole array, about one draw in a thousand: for a kernel's tile, not for XLA's CPU loops)."""
    w, p = _erf_inv64_central(x)
    if branch_tails:
        poly = lax.cond(jnp.max(w) >= 6.25, _erf_inv64_tails, lambda w, p: p, w, p)  # (no reduce_or in Triton)
    else:
        poly = _erf_inv64_tails(w, p)
    return jnp.where(jnp.abs(x) == 1.0, x * jnp.inf, poly * x)


def erf_inv(x):
    """Inverse error function (float64: Giles 2011 in vectorisable arithmetic; else ``lax.erf_inv``)."""
    x = jnp.asarray(x)
    return _erf_inv64(x) if _is_float64(x) else lax.erf_inv(x)


def _rotl(x, r: int):
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def threefry2x32(k1, k2, x1, x2):
    """The Threefry-2x32 block cipher, 20 rounds (Salmon et al., SC'11), unrolled; uint32 arrays."""
    ks = (k1, k2, k1 ^ k2 ^ np.uint32(0x1BD11BDA))
    rotations = ((13, 15, 26, 6), (17, 29, 16, 24))
    x1, x2 = x1 + ks[0], x2 + ks[1]
    for i in range(5):
        for r in rotations[i % 2]:
            x1 = x1 + x2
            x2 = x1 ^ _rotl(x2, r)
        x1 = x1 + ks[(i + 1) % 3]
        x2 = x2 + ks[(i + 2) % 3] + np.uint32(i + 1)
    return x1, x2


def _uniform_pm1(key_data, counters):
    """``jax.random.uniform(key, …, float64, nextafter(−1, 0), 1)`` at the given counters (uint32)."""
    hi, lo = threefry2x32(key_data[0], key_data[1], jnp.zeros_like(counters), counters)
    bits = (hi.astype(jnp.uint64) << np.uint64(32)) | lo.astype(jnp.uint64)
    f = lax.bitcast_convert_type((bits >> np.uint64(12)) | np.uint64(0x3FF0000000000000), jnp.float64) - 1.0
    low = np.nextafter(-1.0, 0.0)
    return jnp.maximum(low, f * (1.0 - low) + low)


def standard_normal_row(k1, k2, counter, branch_tails: bool = True, dtype=jnp.float64):
    """Row ``counter`` (uint32 scalar) of :func:`standard_normal_columns` for the key data ``k1, k2``
    (uint32 arrays, one key per column), float64, for a kernel that draws as it goes: the same
    numbers, with erf⁻¹'s tail polynomials evaluated only when some element of the row needs them
    (``branch_tails``; else for every element, selected where needed). ``dtype=float32``: the same
    float64 uniform numbers transformed in float32 (:func:`normal_from_uniform32`, no branch), within 5
    float32 ulp of the float64 draws."""
    return _normal_from_uniform(_uniform_pm1((k1, k2), jnp.zeros_like(k1) + counter), dtype, branch_tails)


def _normal_from_uniform(u, dtype, branch_tails: bool = False):
    """√2 erf⁻¹(u) of float64 uniform numbers u: by float32 arithmetic for ``dtype`` float32
    (:func:`normal_from_uniform32`), else in float64 (:func:`_erf_inv64`)."""
    if jnp.dtype(dtype) == jnp.float32:
        return normal_from_uniform32(u)
    return math.sqrt(2.0) * _erf_inv64(u, branch_tails=branch_tails)


# Giles (2011), single precision (as XLA's float32 erf_inv), highest degree first: w < 5 in w − 2.5; else √w − 3
_ERFINV32_CENTRAL = (
    2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
    -0.00125372503, -0.00417768164, 0.246640727, 1.50140941,
)  # fmt: skip
_ERFINV32_TAIL = (
    -0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
    -0.0076224613, 0.00943887047, 1.00167406, 2.83297682,
)  # fmt: skip


def normal_from_uniform32(u):
    """√2 erf⁻¹(u) in float32 for float64 uniform numbers u ∈ (−1, 1) (Giles, "Approximating the erfinv function",
    GPU Computing Gems (2011)): w = −log(1 − u²) from 1 − u² formed in float64 (to rounding also where u lies within
    2⁻⁵² of ±1, which float32 rounds to ±1) and rounded once to float32, then erf⁻¹(u)/u by Giles's
    single-precision polynomials in w (central below w = 5, tail above) and, beyond w = 16 (|u| > 1 − 6·10⁻⁸, where
    float32's own uniform numbers never go), double precision's far tail, all three evaluated and selected (a
    branch on the tile's largest w compiled to more instructions for a GPU, not fewer). Within 5 float32 ulp of
    √2 erf⁻¹(u) over the whole range (tested): the float32 GPU kernel's δ from the float64 stream of random
    numbers with no float64 arithmetic beyond 1 − u²."""
    f32 = np.float32  # typed constants for Pallas's Triton lowering (see _log64_any)
    w = -jnp.log(((1.0 - u) * (1.0 + u)).astype(jnp.float32))
    s = jnp.sqrt(w)
    t_c, t_t, t_f = w - f32(2.5), s - f32(3.0), s - f32(5.0)
    p_c, p_t = jnp.full_like(w, f32(_ERFINV32_CENTRAL[0])), jnp.full_like(w, f32(_ERFINV32_TAIL[0]))
    for c, d in zip(_ERFINV32_CENTRAL[1:], _ERFINV32_TAIL[1:], strict=True):
        p_c, p_t = f32(c) + p_c * t_c, f32(d) + p_t * t_t
    p_f = jnp.full_like(w, f32(_ERFINV_FAR_TAIL[2]))  # (its first two coefficients are padding)
    for c in _ERFINV_FAR_TAIL[3:]:
        p_f = f32(c) + p_f * t_f
    p = jnp.where(w < f32(5.0), p_c, jnp.where(w < f32(16.0), p_t, p_f))
    return (f32(math.sqrt(2.0)) * p) * u.astype(jnp.float32)


def fast_normal_applies(key, shape, dtype) -> bool:
    """Whether the arithmetic float64 normal draws apply to ``key`` (threefry, partitionable counters)."""
    size = math.prod(shape)
    return (
        jnp.dtype(dtype) == jnp.float64
        and jax.config.jax_enable_x64
        and jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
        and str(jax.random.key_impl(key)) == "threefry2x32"
        and jax.config.jax_threefry_partitionable
        and 0 < size < 2**32
    )


def standard_normal(key, shape=(), dtype=None):
    """N(0, 1) draws: ``jax.random.normal(key, shape, dtype)`` to a few ulp, faster in float64
    (the one column of :func:`standard_normal_columns` for this key)."""
    shape, dtype = tuple(int(n) for n in shape), jnp.dtype(dtype or real_dtype())
    # an eager call runs the compiled draw (traced afresh, its lax.map was compiled again at every
    # call: 0.45 s for 1000 draws); inside a trace the draw is traced into the caller's program
    draw = _standard_normal if isinstance(key, jax.core.Tracer) else _compiled_standard_normal
    return draw(key, shape, dtype)


def _standard_normal(key, shape, dtype):
    if not fast_normal_applies(key, shape, dtype):
        return jax.random.normal(key, shape, dtype)
    return standard_normal_columns(key[None], math.prod(shape), dtype)[:, 0].reshape(shape)


_compiled_standard_normal = jax.jit(_standard_normal, static_argnames=("shape", "dtype"))


def standard_normal_columns(keys, n: int, dtype=None, out_dtype=None):
    """``standard_normal(keys[i], (n,), dtype)`` in column i of an (n, B) array, for keys (B,).

    The counters run down the rows, so the draws land in this layout (no transposition). The
    uniform numbers are made in a scan of two steps, so that XLA keeps them in memory: fused, it
    computes the integer hash once for each consumer of u in the transform (measured 1.8× slower).
    ``out_dtype=float32`` (with float64 ``dtype``): the same float64 uniform numbers turned into
    float32 draws by float32 arithmetic (:func:`normal_from_uniform32`), within 5 float32 ulp of the
    float64 draws; else (and for keys other than threefry's, drawn by ``jax.random``) the draws in ``dtype``.
    """
    dtype = jnp.dtype(dtype or real_dtype())
    if keys.ndim != 1 or not fast_normal_applies(keys, (n,), dtype):
        return jax.vmap(lambda k: standard_normal(k, (n,), dtype), out_axes=1)(keys)
    data = jax.random.key_data(keys)  # (B, 2)
    k1, k2 = data[None, :, 0], data[None, :, 1]
    half = -(-n // 2)
    counters = jnp.arange(2 * half, dtype=jnp.uint32).reshape(2, half, 1)
    u = lax.map(lambda c: _uniform_pm1((k1, k2), jnp.broadcast_to(c, (half, keys.shape[0]))), counters)
    return _normal_from_uniform(u.reshape(2 * half, keys.shape[0])[:n], out_dtype or dtype)
