"""A user's own law G(δ) for the tests of model A's extension point (``jt.Distribution``)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

import jaxthermo as jt


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Laplace(jt.Distribution):
    """Symmetric Laplace law G(δ) = e^{−|δ|/b}/(2b), variance 2b²; quadrature by Gauss–Laguerre."""

    scale: float

    def sample(self, key, shape=(), dtype=None):
        dtype = dtype or jnp.float64
        return jnp.asarray(self.scale).astype(dtype) * jax.random.laplace(key, shape, dtype)

    def expectation(self, f, n_nodes=None, kink_at_zero=False):
        x, w = np.polynomial.laguerre.laggauss(n_nodes or 60)  # ∫_0^∞ e^{−x} f(x) dx
        b = jnp.asarray(self.scale)
        nodes = jnp.concatenate([-b * x[::-1], b * x])
        weights = 0.5 * jnp.concatenate([w[::-1], w])
        return self.weighted_sum(weights, f(nodes))

    @property
    def variance(self):
        return 2 * jnp.asarray(self.scale) ** 2
