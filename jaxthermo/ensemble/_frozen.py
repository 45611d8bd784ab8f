"""Frozen-configuration means of any trajectory observable, differentiable (docs/ensemble.md).

A configuration δ_N is drawn once and kept for all N collisions. Configuration i comes from the
engine's sampler (:func:`~jaxthermo.ensemble._sampling.sample_chunk`: key ``fold_in(key, i)``, drawn
in the engine's draw dtype), so it is the same configuration as in :func:`jaxthermo.ensemble` with
the same key, whatever the chunk size. Each configuration runs model A's own single-configuration
:func:`~jaxthermo.trajectory`; chunks are ``vmap``-ed and streamed by the differentiable objective's
:func:`~jaxthermo.ensemble._objective.mean_over_configurations` (running sums only). Gradients to
σ, θ, β, … flow through the reparameterised draws and the collisions. The fixed statistics of large
runs (mean state, moments, histograms, frozen D_α; sharding, checkpoints) are :func:`jaxthermo.ensemble`'s.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._deprecation import warn_deprecated
from .._dtypes import as_state, real_dtype, real_dtype_for
from .._information import divergences_to_thermal
from .._qudit import has_coherences
from .._validation import (
    check_callable,
    check_density_matrix,
    check_flag,
    check_key,
    check_orders,
    check_positive_int,
    is_concrete,
)
from ..inhomogeneous import (
    InhomogeneousReservoir,
    Trajectory,
    averaged_trajectory,
    distribution_of,
    trajectory,
)
from ._engine import check_model
from ._objective import EnsembleMean, mean_over_configurations, objective_chunks, warn_if_nan
from ._sampling import MAX_CONFIGS, sample_chunk


def frozen_ensemble_mean(
    model: InhomogeneousReservoir,
    rho0,
    key,
    n_configs: int,
    n_steps: int,
    observable: Callable[[Trajectory], object],
    chunk_size: int = 4096,
    distribution=None,
    draw_dtype=None,
) -> EnsembleMean:
    """Mean and standard error over frozen configurations of ``observable(trajectory)``.

    Args:
      model: the reservoir model (θ scalar or (N,) schedule).
      rho0: initial system state (d, d).
      key: PRNG key; configuration i uses ``fold_in(key, i)`` (the engine's sampler).
      n_configs, n_steps: number of configurations and collisions N per configuration (in this order, after
        the key: ``jt.ensemble`` and ``ensemble_mean`` take ``n_steps, n_configs, seed``; pass them by keyword
        where both are plausible, ``n_configs=…, n_steps=…``).
      observable: maps one :class:`~jaxthermo.Trajectory` (states (N+1, d, d)) to a pytree of arrays
        (boolean and integer leaves are averaged in the precision of ``rho0``: an indicator's mean is a
        fraction).
      chunk_size: configurations per vmapped chunk (no effect on the result beyond rounding).
      distribution: G(δ) (default ``model.distribution``).
      draw_dtype: dtype of the δ draws (default: the engine's, float64 under x64), cast to the
        dtype of ``rho0``.

    Returns:
      :class:`EnsembleMean` ``(mean, stderr, n_configs)``, differentiable in the model's parameters.
      Each leaf is its own mean: a leaf that is +∞ (−∞) in some configuration has the mean +∞ (−∞), NaN
      if both signs or a NaN occur (NumPy's float64 mean of the same values), and a NaN standard error;
      NaN means of a call outside ``jit``/``grad`` also give a ``RuntimeWarning`` naming the leaves.

    ``observable`` is traced at every call (so what it reads is read afresh); for a sweep over the
    model's parameters compile the call once: ``f = jax.jit(lambda m: frozen_ensemble_mean(m, rho0,
    key, n, N, observable).mean)``, then ``f(model.replace(beta=b))`` (2.7 s, then 1 ms per point
    on 2 cores for 1000 configurations × 20 collisions, against 1.5–2.5 s per eager call).
    """
    check_callable(observable, "observable", "a function of the trajectory")  # failed inside the scan
    return _frozen_mean(
        model, rho0, key, n_configs, n_steps, _OfTrajectory(observable), chunk_size, distribution, draw_dtype
    )


def _frozen_mean(model, rho0, key, n_configs, n_steps, observable, chunk_size, distribution=None, draw_dtype=None):
    """:func:`frozen_ensemble_mean` of ``observable(trajectory, model)``, checked. A user's observable
    is traced afresh at each call (a cached trace would keep what its function read then: a global
    changed between calls would be silently ignored); the library's own, equal by value
    (:class:`_DivergencesToThermal`), run a program compiled once per model structure, N, chunk and
    dtypes (traced afresh, :func:`frozen_vs_averaged_divergence` compiled its scan at every call), for
    many numbers of configurations: n_configs is an argument, the chunks those of
    :func:`~jaxthermo.ensemble._objective.objective_chunks` (a program per n_configs compiled ≈ 3 s at
    every size of a convergence study)."""
    check_model(model, "frozen_ensemble_mean", need_distribution=False)
    distribution = distribution_of(model, distribution)
    check_key(key)
    impl = str(jax.random.key_impl(key)) if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key) else None
    if impl not in (None, "threefry2x32"):  # vmapped rbg draws depend on the batch: 1.648e-3, 2.160e-3, 2.266e-3
        raise ValueError(  # for chunk_size 1, 5, 64 (threefry: 1.6998e-3 for all)
            f"key: a {impl} key makes the draws of a vmapped chunk depend on chunk_size; use a threefry key, "
            "jax.random.key(seed, impl='threefry2x32') (the engine's)"
        )
    check_density_matrix(rho0, "rho0", dim=model.d)
    n_steps = check_positive_int(n_steps, "n_steps")
    n_configs = check_positive_int(n_configs, "n_configs")
    if n_configs > MAX_CONFIGS:  # indices are 32-bit: configuration i + 2³² would repeat configuration i
        raise ValueError(f"n_configs={n_configs}: at most 2**32 configurations per key")
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    draw_dtype = draw_dtype and jnp.dtype(draw_dtype)
    args = (model, distribution, as_state(rho0), key, observable)
    with jax.threefry_partitionable(True):  # the engine's draws whatever JAX's setting (docs/ensemble.md §1)
        if isinstance(observable, _DivergencesToThermal):  # sizes share the compiled program
            chunk, n_chunks = objective_chunks(n_configs, chunk_size)
            out = _frozen_mean_compiled(*args, np.int64(n_configs), n_steps, chunk, n_chunks, draw_dtype)
        else:  # traced at every call anyway: the chunks n_configs needs, no padding
            chunk = min(chunk_size, n_configs)
            out = _frozen_mean_traced(*args, n_configs, n_steps, chunk, -(-n_configs // chunk), draw_dtype)
    warn_if_nan(out.mean, "frozen_ensemble_mean", getattr(observable, "function", observable))  # the user's
    return EnsembleMean(out.mean, out.stderr, n_configs)


def _frozen_mean_traced(model, distribution, rho0, key, observable, n_configs, n_steps, chunk, n_chunks, draw_dtype):
    rdt = real_dtype_for(rho0.dtype)

    def values(indices):
        deltas = sample_chunk(distribution, key, indices, n_steps, rdt, draw_dtype)
        out = jax.vmap(lambda ds: observable(trajectory(model, rho0, ds), model))(deltas)
        return jax.tree.map(partial(_as_real, rdt), out)

    return mean_over_configurations(values, n_configs, chunk, n_chunks)


def _as_real(rdt, x):
    """A boolean or integer leaf in the run's real dtype (its mean is a fraction or an average count):
    a boolean leaf (an indicator, e.g. ``W_N > 0``) raised a TypeError of ``jnp.subtract``, an integer
    leaf of a float32 run returned a float64 mean."""
    x = jnp.asarray(x)
    return x.astype(rdt) if x.dtype == jnp.bool_ or jnp.issubdtype(x.dtype, jnp.integer) else x


_frozen_mean_compiled = jax.jit(
    _frozen_mean_traced, static_argnames=("observable", "n_steps", "chunk", "n_chunks", "draw_dtype")
)


@dataclasses.dataclass(frozen=True)
class _OfTrajectory:
    """A user's observable of the trajectory alone, called as the library's own: ``(trajectory, model)``."""

    function: Callable[[Trajectory], object]

    def __call__(self, traj, model):
        return self.function(traj)


@dataclasses.dataclass(frozen=True)
class _DivergencesToThermal:
    """D_α(ρ_{S|r}‖τ_S) at every step of a trajectory, τ_S from the (traced) model; equal by value."""

    orders: tuple
    quantum: bool

    def __call__(self, traj, model):
        return divergences_to_thermal(traj.states, model.beta, model.g0, self.orders, quantum=self.quantum)


def sample_configurations(distribution, key, indices, n_steps: int, dtype=None):
    """Deprecated: δ_N of the configurations ``indices`` (n,), shape (n, N); use the engine's sampler.

    Configuration i is drawn from ``fold_in(key, i)`` in ``dtype``; :func:`frozen_ensemble_mean` and
    :func:`jaxthermo.ensemble` draw the same way.
    """
    warn_deprecated("sample_configurations", "jaxthermo.ensemble.frozen_ensemble_mean (the engine's sampler)")
    indices = jnp.asarray(indices)
    dtype = dtype or real_dtype()
    return sample_chunk(distribution, key, indices, check_positive_int(n_steps, "n_steps"), dtype, dtype)


class FrozenVersusAveraged(NamedTuple):
    """[ATO19] Fig. 5: per step r, the frozen-ensemble mean of D_α(ρ_{S|r}‖τ_S) (with its standard
    error) and D_α(ρ̄_{S|r}‖τ_S) of the ensemble-averaged state; arrays (N+1, k)."""

    frozen_mean: jnp.ndarray
    frozen_stderr: jnp.ndarray
    averaged: jnp.ndarray


def frozen_vs_averaged_divergence(
    model: InhomogeneousReservoir,
    rho0,
    key,
    n_configs: int,
    n_steps: int,
    alphas,
    chunk_size: int = 4096,
    *,
    quantum: bool | None = None,
) -> FrozenVersusAveraged:
    """Frozen-configuration average of D_α(ρ_{S|r}(δ_N)‖τ_S) vs D_α of ρ̄_{S|r} ([ATO19] §VI).

    ``quantum``: the quantum divergences (docs/information.md), by default for a ρ0 with coherences,
    as :func:`jaxthermo.ensemble` does.
    """
    check_flag(quantum, "quantum", none_ok=True)
    check_density_matrix(rho0, "rho0", dim=model.d)  # a (2, 3) ρ0 failed in NumPy's broadcasting, naming nothing
    if quantum is None:
        quantum = _has_coherences(rho0)
    # host floats: the quantum divergences select their branch per α while the chunks are traced
    orders = check_orders(alphas)
    if len(orders) == 0:  # failed as NumPy's "need at least one array to stack"
        raise ValueError("alphas: give at least one Rényi order α")
    divergences = _DivergencesToThermal(orders, bool(quantum))
    frozen = _frozen_mean(model, rho0, key, n_configs, n_steps, divergences, chunk_size)
    averaged = divergences(averaged_trajectory(model, rho0, n_steps), model)
    return FrozenVersusAveraged(frozen.mean, frozen.stderr, averaged)


def _has_coherences(rho0) -> bool:
    """Whether a concrete ρ0 has off-diagonal entries (the engine's default ``coherent``); a traced ρ0
    counts as coherent (the quantum divergences equal the classical ones for diagonal states)."""
    if not is_concrete(rho0):
        return True
    with jax.ensure_compile_time_eval():  # a constant ρ0 inside jax.jit: read, not staged
        return has_coherences(as_state(rho0))
