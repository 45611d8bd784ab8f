"""Configuration sampling: configuration i's randomness depends only on (seed, i) (docs/ensemble.md).

``key_i = fold_in(key(seed), i)`` and ``δ_N(i) = G.sample(key_i, (N,))``: the same δ sequence
for configuration i whatever the chunk size, the device count or the host that computes it.
The draw is made in ``draw_dtype`` (default: float64 when x64 is on, the library's default) and then
cast to the run's dtype, so a float32 and a float64 run see the same configurations (to float32
rounding of δ) and differ only by arithmetic. A float32 run's Gaussian δ are the float64 stream's
uniform numbers turned into δ by float32 arithmetic (:func:`~jaxthermo._elementary.normal_from_uniform32`,
within 5 float32 ulp of the float64 δ, which rounded would be within ½ ulp: the same configurations, the δ
transform ×3.6 faster on CPU, docs/ensemble.md §1). Different compiled contexts (chunk sizes, devices,
sweeps) may differ in the last bit of the draw (vectorised transcendental functions), i.e. by
rounding of the draw dtype. A float32 draw is faster but is a different random stream (other
configurations), reproducible across chunkings only to ~1e-7.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._elementary import fast_normal_applies, standard_normal_columns
from .._validation import check_integer
from ..inhomogeneous import Gaussian

MAX_CONFIGS = 2**32  # fold_in takes 32-bit data
# a float32 run's Gaussian δ from the float64 stream's uniforms by float32 arithmetic (CPU and the GPU tile
# kernel; module docstring), else float64's δ rounded to float32 (½ ulp; its transform ×3.6 slower on CPU): read
# when a chunk is traced
FLOAT32_TRANSFORM = True
SEED_RANGE = (-(2**63), 2**63)  # jax.random.key takes a 64-bit signed seed


def check_seed(seed, name: str = "seed") -> int:
    """An integer seed of ``jax.random.key`` (TypeError otherwise), in [−2⁶³, 2⁶³) (ValueError naming
    ``name``: outside, ``jax.random.key`` raised an OverflowError about a C long)."""
    seed = check_integer(seed, name)
    if not SEED_RANGE[0] <= seed < SEED_RANGE[1]:
        raise ValueError(f"{name}={seed}: must lie in [-2**63, 2**63) (a 64-bit signed integer)")
    return seed


def default_draw_dtype():
    """float64 when ``jax_enable_x64`` is on, else float32."""
    return jnp.float64 if jax.config.jax_enable_x64 else jnp.float32


def configuration_key(seed_key, index):
    """The key of configuration ``index`` (a uint32 scalar or array)."""
    return jax.random.fold_in(seed_key, jnp.asarray(index).astype(jnp.uint32))


def sample_deltas(distribution, seed_key, index, n_steps: int, dtype, draw_dtype=None):
    """δ_1…δ_N of configuration ``index`` (a scalar), shape (N,), drawn in ``draw_dtype``, cast to
    ``dtype`` (the column of :func:`sample_steps`)."""
    index = jnp.asarray(index)
    if index.ndim:
        raise ValueError(f"index: one configuration index (a scalar); got shape {index.shape}")
    return sample_steps(distribution, seed_key, index[None], n_steps, dtype, draw_dtype)[:, 0]


def sample_steps(distribution, seed_key, indices, n_steps: int, dtype, draw_dtype=None):
    """δ sequences of the configurations ``indices`` (B,) as columns, shape (N, B): row r holds the
    δ_r of the chunk (the layout the scan over collisions reads); column i equals
    :func:`sample_deltas` of ``indices[i]``. A float32 run's Gaussian δ from float64 draws: the
    float64 uniform numbers turned into δ in float32 (module docstring)."""
    draw_dtype = draw_dtype or default_draw_dtype()
    keys = jax.vmap(lambda i: configuration_key(seed_key, i))(indices)
    if float32_transform_applies(distribution, keys, n_steps, dtype, draw_dtype):
        sigma = jnp.asarray(distribution.sigma).astype(jnp.float32)
        return sigma * standard_normal_columns(keys, n_steps, draw_dtype, out_dtype=jnp.float32)
    return distribution.sample_columns(keys, n_steps, draw_dtype).astype(dtype)


def float32_transform_applies(distribution, keys, n_steps: int, dtype, draw_dtype) -> bool:
    """Whether a run in ``dtype`` takes its δ by :func:`~jaxthermo._elementary.normal_from_uniform32`:
    a float32 run of a :class:`~jaxthermo.Gaussian` (not a subclass, which may draw otherwise) drawn
    from the float64 threefry stream."""
    return (
        transforms_in_float32(dtype)
        and type(distribution) is Gaussian
        and fast_normal_applies(keys, (n_steps,), draw_dtype)
    )


def transforms_in_float32(dtype) -> bool:
    """The dtype half of :func:`float32_transform_applies` (the GPU tile kernel's draws, whose Gaussian
    and threefry float64 stream :func:`~jaxthermo.ensemble._tile_kernel.keyed_draws` has checked)."""
    return FLOAT32_TRANSFORM and jnp.dtype(dtype) == jnp.float32


def sample_chunk(distribution, seed_key, indices, n_steps: int, dtype, draw_dtype=None):
    """δ sequences of the configurations ``indices`` (B,), shape (B, N)."""
    return sample_steps(distribution, seed_key, indices, n_steps, dtype, draw_dtype).T
