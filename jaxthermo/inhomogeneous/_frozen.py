"""Ensembles of frozen configurations δ_N (SPEC §3, §6): the one place model A samples them.

A configuration is drawn once and kept for all N collisions; its key is
``fold_in(key, configuration index)``, so results do not depend on the chunk size. Chunks of
configurations are ``vmap``-ed through :func:`trajectory`; only running sums of an observable are
kept (memory does not grow with the number of configurations). This is deliberately small and
generic: any observable of a trajectory, differentiable end to end (gradients to σ, θ, β flow
through the reparameterised draws). The fixed statistics of large runs (mean state, moments,
histograms, frozen D_α; sharding, checkpoints) go through the ensemble engine
(:func:`jaxthermo.ensemble`), which ``jaxthermo demo`` and Fig. 5 of ``jaxthermo figures`` use.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._dtypes import as_state, real_dtype_for
from ._analytics import _check_steps, distribution_of
from ._dynamics import Trajectory, _validate, trajectory
from ._model import InhomogeneousReservoir


class EnsembleMean(NamedTuple):
    """Mean of an observable over configurations and its standard error (same pytree shape)."""

    mean: object
    stderr: object
    n_configs: int


def sample_configurations(distribution, key, indices, n_steps: int, dtype=None):
    """δ_N for the configurations ``indices`` (n,): shape (n, N), each from ``fold_in(key, index)``."""
    return jax.vmap(lambda i: distribution.sample(jax.random.fold_in(key, i), (n_steps,), dtype))(indices)


def frozen_ensemble_mean(
    model: InhomogeneousReservoir,
    rho0,
    key,
    n_configs: int,
    n_steps: int,
    observable: Callable[[Trajectory], object],
    chunk_size: int = 4096,
    distribution=None,
) -> EnsembleMean:
    """Mean and standard error over frozen configurations of ``observable(trajectory)`` (SPEC §3).

    Args:
      model: the reservoir model (θ scalar or (N,) schedule).
      rho0: initial system state (d, d).
      key: PRNG key; configuration i uses ``fold_in(key, i)``.
      n_configs, n_steps: number of configurations and collisions N per configuration.
      observable: maps one :class:`Trajectory` (states (N+1, d, d)) to a pytree of arrays.
      chunk_size: configurations per vmapped chunk.
    """
    distribution = distribution_of(model, distribution)
    _validate(model, rho0, 0.0)
    _check_steps(n_steps, "n_steps")
    _check_steps(n_configs, "n_configs")
    _check_steps(chunk_size, "chunk_size")
    rho0 = as_state(rho0)
    rdt = real_dtype_for(rho0.dtype)

    @jax.jit
    def chunk_sums(indices, mask):
        deltas = sample_configurations(distribution, key, indices, n_steps, rdt)
        values = jax.vmap(lambda ds: observable(trajectory(model, rho0, ds)))(deltas)

        def sums(v):
            w = mask.reshape((-1,) + (1,) * (v.ndim - 1)).astype(v.dtype)
            return jnp.sum(w * v, axis=0), jnp.sum(w * jnp.abs(v) ** 2, axis=0)

        return jax.tree_util.tree_map(sums, values)

    chunk = min(chunk_size, n_configs)
    totals = None
    for start in range(0, n_configs, chunk):
        idx = np.arange(start, start + chunk)
        part = chunk_sums(jnp.asarray(idx), jnp.asarray(idx < n_configs))
        totals = part if totals is None else jax.tree_util.tree_map(jnp.add, totals, part)
    is_pair = lambda x: isinstance(x, tuple) and len(x) == 2 and not isinstance(x[0], tuple)  # noqa: E731
    mean = jax.tree_util.tree_map(lambda t: t[0] / n_configs, totals, is_leaf=is_pair)
    second = jax.tree_util.tree_map(lambda t: t[1] / n_configs, totals, is_leaf=is_pair)
    stderr = jax.tree_util.tree_map(
        lambda m, s: jnp.sqrt(jnp.maximum(s - jnp.abs(m) ** 2, 0.0) / max(n_configs - 1, 1)), mean, second
    )
    return EnsembleMean(mean, stderr, n_configs)
