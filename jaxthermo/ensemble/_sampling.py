"""Configuration sampling: configuration i's randomness depends only on (seed, i) (docs/ensemble.md).

``key_i = fold_in(key(seed), i)`` and ``δ_N(i) = G.sample(key_i, (N,))``: the same δ sequence
for configuration i whatever the chunk size, the device count or the host that computes it.
The draw is made in ``draw_dtype`` (default: float64 when x64 is on, the library's default) and then
cast to the run's dtype, so a float32 and a float64 run see the same configurations (to float32
rounding of δ) and differ only by arithmetic. Different compiled contexts (chunk sizes, devices,
sweeps) may differ in the last bit of the draw (vectorised transcendental functions), i.e. by
rounding of the draw dtype. A float32 draw is faster but is a different random stream (other
configurations), reproducible across chunkings only to ~1e-7.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._validation import check_integer

MAX_CONFIGS = 2**32  # fold_in takes 32-bit data
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
    """δ_1…δ_N of configuration ``index``, shape (N,), drawn in ``draw_dtype``, cast to ``dtype``."""
    draw_dtype = draw_dtype or default_draw_dtype()
    draw = distribution.sample(configuration_key(seed_key, index), (n_steps,), draw_dtype)
    return draw.astype(dtype)


def sample_steps(distribution, seed_key, indices, n_steps: int, dtype, draw_dtype=None):
    """δ sequences of the configurations ``indices`` (B,) as columns, shape (N, B): row r holds the
    δ_r of the chunk (the layout the scan over collisions reads); column i equals
    :func:`sample_deltas` of ``indices[i]``."""
    draw_dtype = draw_dtype or default_draw_dtype()
    keys = jax.vmap(lambda i: configuration_key(seed_key, i))(indices)
    return distribution.sample_columns(keys, n_steps, draw_dtype).astype(dtype)


def sample_chunk(distribution, seed_key, indices, n_steps: int, dtype, draw_dtype=None):
    """δ sequences of the configurations ``indices`` (B,), shape (B, N)."""
    return sample_steps(distribution, seed_key, indices, n_steps, dtype, draw_dtype).T
