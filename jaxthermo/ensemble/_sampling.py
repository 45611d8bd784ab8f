"""Configuration sampling: configuration i's randomness depends only on (seed, i) (SPEC §6).

``key_i = fold_in(key(seed), i)`` and ``δ_N(i) = G.sample(key_i, (N,))``: the same δ sequence
for configuration i whatever the chunk size, the device count or the host that computes it.
The draw is always made in float32 and then cast to the run's dtype, so a float32 and a float64
run see the same configurations (to float32 rounding of δ) and differ only by arithmetic.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

MAX_CONFIGS = 2**32  # fold_in takes 32-bit data
SAMPLE_DTYPE = jnp.float32


def configuration_key(seed_key, index):
    """The key of configuration ``index`` (a uint32 scalar or array)."""
    return jax.random.fold_in(seed_key, jnp.asarray(index).astype(jnp.uint32))


def sample_deltas(distribution, seed_key, index, n_steps: int, dtype):
    """δ_1…δ_N of configuration ``index``, shape (N,), drawn in float32 and cast to ``dtype``."""
    draw = distribution.sample(configuration_key(seed_key, index), (n_steps,), SAMPLE_DTYPE)
    return draw.astype(dtype)


def sample_chunk(distribution, seed_key, indices, n_steps: int, dtype):
    """δ sequences of the configurations ``indices`` (B,), shape (B, N)."""
    return jax.vmap(lambda i: sample_deltas(distribution, seed_key, i, n_steps, dtype))(indices)
