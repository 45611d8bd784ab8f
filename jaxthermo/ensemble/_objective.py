"""A differentiable ensemble objective: the mean of an observable over millions of configurations
(docs/ensemble.md §5).

:func:`ensemble_mean` is a JAX function of the model pytree (``jax.grad``, ``jax.jacfwd``,
``jax.vmap`` over parameters) whose memory does not grow with the number of configurations:

* configuration i is the engine's (δ_N(i) from ``fold_in(key(seed), i)``,
  :func:`~jaxthermo.ensemble._sampling.sample_chunk`), collided with model A's single-configuration
  :func:`~jaxthermo.collision_step`;
* configurations are processed in chunks by a ``lax.scan`` over chunk indices that keeps only running
  sums; each chunk's body is wrapped in ``jax.checkpoint``, so reverse mode stores one scalar carry per
  chunk and recomputes the chunk's forward pass while accumulating its VJP (memory: one chunk's
  residuals, set by ``chunk_size`` × N, not by ``n_configs``). Forward mode (``jacfwd``) and ``vmap``
  go through the same program (a ``custom_vjp`` would forbid forward mode);
* the program is jitted once per static setting (N, observable, chunk size, number of chunks, dtypes)
  and reused for any parameter values, any seed (the seed is an argument of the program, so an optax
  loop can draw fresh configurations every step without recompiling) and many numbers of
  configurations: the number is an argument too, the chunk of a run that fits in one the least power
  of 4 that holds it, the scan over chunks a power of 4 long, its chunks past the run skipped
  (docs/ensemble.md §1).
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._config import config
from .._dtypes import as_state, cast_floats
from .._qudit import has_coherences
from .._validation import (
    check_density_matrix,
    check_finite,
    check_finite_temperature,
    check_flag,
    check_orders,
    check_positive_int,
    is_concrete,
)
from ..inhomogeneous import collision_step, free_energies
from ..inhomogeneous._distributions import stage_scale_checks
from ..inhomogeneous._model import reservoir_parameters_of
from ._engine import check_model, seed_key_of, shared_per_device
from ._kernel import model_divergences, scan_thetas
from ._quantities import total_entropy_production
from ._sampling import MAX_CONFIGS, check_seed, default_draw_dtype, sample_chunk

OBSERVABLES = ("total_work", "total_heat", "free_energy", "entropy_production")
# the observables that take ``quantum``: a divergence of the final state to τ_S
_QUANTUM = ("free_energy", "entropy_production")
# reverse mode keeps about 340 bytes per (configuration, collision) of a chunk: 2¹⁸ pairs ≈ 90 MB
_CHUNK_ELEMENTS = 2**18
_CHUNK_CAP = 16384


class EnsembleMean(NamedTuple):
    """Mean of an observable over configurations and its standard error (same pytree shape)."""

    mean: object
    stderr: object
    n_configs: int


def mean_over_configurations(values: Callable, n_configs, chunk: int, n_chunks: int | None = None) -> EnsembleMean:
    """Mean and standard error over configurations 0…n_configs−1 of ``values``, chunk by chunk.

    ``values(indices)`` maps the configuration indices of one chunk ((chunk,) uint32) to a pytree of
    arrays with leading axis ``chunk``. The last chunk is padded: its rows past n_configs are given the
    index of the chunk's first configuration (a copy of a counted one, so no configuration outside
    0…n_configs−1 is ever evaluated, nor its derivative) and are selected out rather than multiplied by
    a zero weight (0·∞ = NaN: the product was safe only because XLA's simplifier rewrites it into a
    select in compiled programs; evaluated eagerly it is NaN). A ``lax.scan`` over chunks keeps only the running count, mean and M2 = Σ|v − mean|²:
    two passes within a chunk, merged across chunks with the pairwise update of Chan et al. (as the
    engine's moments, docs/ensemble.md §2). Each chunk is wrapped in ``jax.checkpoint``, so reverse
    mode stores one carry per chunk and recomputes the chunk (docs/ensemble.md §5). The standard
    error is √(s²/n) with the unbiased sample variance s² = M2/(n − 1), NaN for n = 1. (Running sums Σv and Σ|v|²
    lost the variance to cancellation: a float32 free energy's standard error came out 10⁴ times
    too large, a float64 one 2 % off.)

    The mean keeps the precision of the values far from zero: a chunk's mean is its first value plus
    the mean of the deviations from it, and the running mean is carried as an unevaluated sum
    hi + lo, each merge's rounding error (Knuth's TwoSum) added to lo. Merged at the values' float32
    alone, each merge rounded the running mean by up to ½ ulp of its magnitude: 10³ chunks of 100
    configurations left the mean of a float32 Q_N (mean/spread ≈ 1.5·10⁴) 2.8 ulp (0.9 standard
    errors) from NumPy's float64 mean of the same values.

    ``n_configs`` may be traced (an integer scalar) when ``n_chunks``, the static length of the scan
    over chunks, is given: chunks from ⌈n_configs/chunk⌉ on are skipped (a ``lax.cond`` that leaves the
    running moments as they are, nothing evaluated), so one program serves every n_configs up to
    ``n_chunks · chunk`` (:func:`ensemble_mean`).
    """
    if n_chunks is None:
        n_chunks = -(-n_configs // chunk)
    n_total = jnp.asarray(n_configs, jnp.int64)

    def chunk_moments(c):
        idx = c * chunk + jnp.arange(chunk, dtype=jnp.int64)
        mask = idx < n_total
        # padding rows compute a copy of the chunk's first configuration (always counted), selected out
        vals = values(jnp.where(mask, idx, c * chunk).astype(jnp.uint32))
        count = jnp.sum(mask.astype(jnp.int64))

        def rows(v):
            return mask.reshape(mask.shape + (1,) * (v.ndim - 1))

        def mean(v):  # shifted by the chunk's first value if finite (else 0): Σ of deviations
            n = jnp.maximum(count, 1).astype(jnp.real(v).dtype)
            shift = jnp.where(jnp.isfinite(v[0]), v[0], jnp.zeros_like(v[0]))
            return shift + jnp.sum(jnp.where(rows(v), v - shift, 0), axis=0) / n

        means = jax.tree.map(mean, vals)

        def m2(v, m):
            dev = v - m
            return jnp.sum(jnp.where(rows(v), jnp.real(dev * jnp.conj(dev)), 0), axis=0)

        return count, means, jax.tree.map(m2, vals, means)

    def merged(carry, c):
        n_a, (hi_a, lo_a), m2_a = carry
        n_b, mean_b, m2_b = chunk_moments(c)
        n = n_a + n_b

        def merge(hi, lo, mb, sa, sb):
            rdt = jnp.real(hi).dtype
            f = n_b.astype(rdt) / jnp.maximum(n, 1).astype(rdt)
            delta = (mb - hi) - lo
            step = delta * f
            new = hi + step  # Knuth's TwoSum: new + err = hi + step exactly
            back = new - hi
            err = (hi - (new - back)) + (step - back)
            # Δ·(n_a n_b/n) first: 0 on the first chunk (Δ² of values near the largest float overflowed: ∞·0)
            m2 = sa + sb + jnp.real(delta * (n_a.astype(rdt) * f) * jnp.conj(delta))
            # an infinite or NaN mean on either side: the sum's arithmetic (∞ + x = ∞, ∞ − ∞ = NaN), M2 NaN
            finite = jnp.isfinite(hi) & jnp.isfinite(mb)
            return (
                jnp.where(finite, new, hi + mb),
                jnp.where(finite, lo + err, jnp.zeros_like(lo)),
                jnp.where(finite, m2, jnp.nan),
            )

        merged = jax.tree.map(merge, hi_a, lo_a, mean_b, m2_a, m2_b)
        treedef = jax.tree.structure(hi_a)
        parts = treedef.flatten_up_to(merged)
        hi, lo, m2 = (treedef.unflatten([p[k] for p in parts]) for k in range(3))
        return n, (hi, lo), m2

    # recomputed in reverse mode; a chunk past the run (c·chunk ≥ n_configs) is skipped, the moments as
    # they are (the cond inside the checkpoint: around it, JAX 0.9's partial evaluation of the cond
    # returned a PRNG key among its residuals, zero-filled in the other branch with the wrong type, and
    # the program failed to lower)
    @jax.checkpoint
    def step(carry, c):
        return jax.lax.cond(c * chunk < n_total, merged, lambda carry, c: carry, carry, c)

    def body(carry, c):
        return step(carry, c), None

    shapes = jax.eval_shape(chunk_moments, jnp.int64(0))
    zeros = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)
    carry0 = (zeros[0], (zeros[1], zeros[1]), zeros[2])
    (_, (hi, lo), m2), _ = jax.lax.scan(body, carry0, jnp.arange(n_chunks, dtype=jnp.int64))
    mean = jax.tree.map(operator.add, hi, lo)
    return EnsembleMean(mean, jax.tree.map(partial(_standard_error, n_total), m2), n_configs)


def _standard_error(n, m2):
    """√(M2/(n − 1)/n) for ``n`` configurations (``n`` may be traced); NaN for one configuration
    (undefined, as the engine's variances), not √(rounding of (x − x)²).

    Its derivative at zero spread (M2 = 0: every configuration's value equal, e.g. W_N of the
    temperature kind) is 0: the standard error is a norm of the deviations, not differentiable
    there, and 0 is its least subgradient (and the limit along any path that keeps the values equal).
    The plain √ gave ∞·0 = NaN in ``jax.grad`` and ``jax.jvp``; the square root is taken of a
    positive stand-in where M2 = 0, so no NaN or ∞ enters either mode; a NaN M2 stays NaN."""
    rdt = m2.dtype
    var_of_mean = m2 / jnp.maximum(n - 1, 1).astype(rdt) / n.astype(rdt)
    spread = var_of_mean > 0  # False for 0 and for NaN (a sample holding ∞): 0·NaN keeps the NaN
    root = jnp.where(spread, jnp.sqrt(jnp.where(spread, var_of_mean, jnp.ones_like(var_of_mean))), 0 * var_of_mean)
    return jnp.where(n > 1, root, jnp.nan).astype(rdt)


def objective_chunks(n_configs: int, limit: int) -> tuple[int, int]:
    """``(chunk, n_chunks)`` of the program that runs ``n_configs`` configurations in chunks of at most
    ``limit``: a run that fits in one chunk takes the least power of 4 that holds it (as
    :func:`jaxthermo.ensemble`, docs/ensemble.md §1; the padding masked out), a longer run chunks of
    ``limit`` and a scan over the least power of 4 chunks that holds it (those past the run skipped,
    :func:`mean_over_configurations`), so that many sizes share one compiled program."""
    chunk = shared_per_device(n_configs, limit)
    return chunk, shared_per_device(-(-n_configs // chunk), MAX_CONFIGS)


def default_objective_chunk(n_steps: int) -> int:
    """The most configurations per chunk of :func:`ensemble_mean`: about 2¹⁸ (configuration, collision) pairs."""
    return int(max(1, min(_CHUNK_CAP, _CHUNK_ELEMENTS // max(1, n_steps))))


def final_values(model, rho0, deltas):
    """One configuration: ``(ρ_{S|N}, W_N, Q_N, Σ_r β_r Q_r)`` after the collisions with ``deltas`` (N,).

    The engine's single-configuration step (:func:`~jaxthermo.collision_step`) in a ``lax.scan``; θ is
    ``model.theta`` (a scalar or an (N,) schedule); β_r the inverse temperature of reservoir qudit r
    (docs/inhomogeneous.md §1: β(1 + δ_r) for the temperature kind, β for the Hamiltonian kind).
    """
    rdt = deltas.dtype
    rho0 = as_state(rho0)
    theta, thetas = scan_thetas(model, rdt)

    def step(carry, x):
        rho, w, q, flow = carry
        delta, theta_r = x
        rho, e = collision_step(model, rho, delta, theta if theta_r is None else theta_r)
        flow = flow + reservoir_parameters_of(model, delta).beta * e.heat
        return (rho, w + e.work, q + e.heat, flow), None

    zero = jnp.zeros((), rdt)
    (rho, w, q, flow), _ = jax.lax.scan(step, (rho0, zero, zero, zero), (deltas, thetas))
    return rho, w, q, flow


def _default_quantum(rho0, alpha) -> bool:
    """Whether ``"free_energy"`` takes the quantum divergence when ``quantum`` is not given.

    A concrete ρ0: whether it has coherences. A traced ρ0 (``jit``, ``vmap`` or ``grad`` over the
    initial state) cannot be inspected, so the quantum divergence, which equals the classical one
    for diagonal states (docs/information.md), is taken for every α ≥ 0; the classical one only for
    α < 0, where no quantum divergence is defined. (A traced ρ0 used to take the classical one,
    silently dropping the coherences of a coherent ρ0.)
    """
    if is_concrete(rho0):
        return has_coherences(rho0)
    return alpha is None or alpha >= 0


def _observable_fn(observable, alpha, quantum):
    """The per-configuration value ``f(model, ρ0, ρ_N, W_N, Q_N, Σ β_r Q_r)`` of an observable name or function."""
    if observable == "total_work":
        return lambda model, rho0, rho, w, q, flow: w
    if observable == "total_heat":
        return lambda model, rho0, rho, w, q, flow: q
    if observable == "free_energy":
        return lambda model, rho0, rho, w, q, flow: free_energies(model, rho, (alpha,), quantum)[..., 0]
    if observable == "entropy_production":
        return partial(_entropy_production, quantum=quantum)
    return lambda model, rho0, rho, w, q, flow: observable(rho, w, q)


def _entropy_production(model, rho0, rho, w, q, flow, *, quantum):
    """ΔS_1 + … + ΔS_N of one configuration, β(W_N + Q_N) − (D_1(ρ_S|N‖τ_S) − D_1(ρ0‖τ_S)) − Σ_r β_r Q_r
    (docs/inhomogeneous.md §9, telescoped), the engine's ``total_entropy_production``."""
    # D_1(ρ0‖τ_S) apart from ρ_N's: stacked, a constant ρ0's eigenvalue derivatives (NaN where degenerate) were
    # part of the parameters' derivative
    d1_initial, d1_final = (model_divergences(model, r, (1.0,), quantum)[0] for r in (rho0.astype(rho.dtype), rho))
    return total_entropy_production(model, d1_initial, d1_final, w, q, flow if model.kind == "temperature" else None)


_PROGRAMS: dict = {}
TRACE_COUNT = {"n": 0}  # number of Python traces of the chunk body (tests: no retrace per parameter value)


def _program(n_steps, observable, alpha, quantum, chunk, n_chunks, draw_dtype, with_stderr):
    """The jitted ``run(model, rho0, seed, n_configs)`` for up to ``chunk · n_chunks`` configurations."""
    key = (n_steps, observable, alpha, quantum, chunk, n_chunks, str(draw_dtype), with_stderr)
    if key in _PROGRAMS:
        return _PROGRAMS[key]
    value = _observable_fn(observable, alpha, quantum)

    def run(model, rho0, seed, n_configs):
        rdt = jnp.real(rho0).dtype
        model = cast_floats(model, rdt)
        seed_key = seed_key_of(seed)  # the engine's key (threefry whatever jax_default_prng_impl)

        def values(idx):
            TRACE_COUNT["n"] += 1
            deltas = sample_chunk(model.distribution, seed_key, idx, n_steps, rdt, draw_dtype)
            vals = jnp.asarray(jax.vmap(lambda dl: value(model, rho0, *final_values(model, rho0, dl)))(deltas))
            if vals.shape != (chunk,) or jnp.iscomplexobj(vals):  # a complex value was cast to its real part
                raise ValueError(
                    "observable must return a real scalar per configuration (take jnp.real or jnp.imag of a "
                    f"complex one); got {vals.dtype}{list(vals.shape[1:])}"
                )
            vals = vals.astype(rdt)
            return vals

        out = mean_over_configurations(values, n_configs, chunk, n_chunks)
        return (out.mean, out.stderr) if with_stderr else out.mean

    fn = jax.jit(run)
    _PROGRAMS[key] = fn
    return fn


def _concrete_seed(seed) -> int:
    """A concrete seed (a Python or NumPy integer, or an integer JAX scalar) as :func:`check_seed` takes it; a
    string or float is a ``TypeError`` naming ``seed`` (``operator.index``'s own message did not name it)."""
    if isinstance(seed, jax.Array) and jnp.issubdtype(seed.dtype, jnp.integer) and seed.shape == ():
        seed = int(seed)
    return check_seed(seed)


def warn_if_nan(mean, caller: str, observable) -> None:
    """A ``RuntimeWarning`` naming the observable (and the leaves of a pytree one) when a concrete mean has
    NaN entries: the observable was NaN, or +∞ and −∞, in some configuration. A traced mean (under
    ``jit``/``grad`` of the caller) passes as is."""
    leaves = jax.tree_util.tree_flatten_with_path(mean)[0]
    bad = [
        jax.tree_util.keystr(path)
        for path, leaf in leaves
        if is_concrete(leaf) and bool(jnp.any(jnp.isnan(jnp.asarray(leaf))))
    ]
    if bad:
        name = observable if isinstance(observable, str) else getattr(observable, "__name__", repr(observable))
        where = f" (leaves {', '.join(bad)})" if bad != [""] else ""
        warnings.warn(
            f"{caller}: the mean of observable {name!r}{where} is NaN: its value was NaN, or +inf in some "
            "configurations and -inf in others",
            RuntimeWarning,
            stacklevel=3,
        )


def ensemble_mean(
    model,
    rho0,
    n_steps: int,
    n_configs: int,
    seed: int = 0,
    *,
    observable: str | Callable = "total_work",
    alpha: float | None = None,
    quantum: bool | None = None,
    chunk_size: int | None = None,
    draw_dtype=None,
    stderr: bool = False,
):
    """Mean over ``n_configs`` frozen configurations of a final-state observable, differentiable.

    Configuration i is the one :func:`jaxthermo.ensemble` runs for the same ``seed`` (δ_N(i) from
    ``fold_in(key(seed), i)``), so the value equals the engine's mean to rounding. Gradients reach
    every float leaf of the model pytree — β, g0, θ (a scalar or an (N,) schedule), the coupling's
    fields and the distribution's scale (``sigma``, ``width``, ``delta``; reparameterised draws).
    Memory is flat in ``n_configs``, also in reverse mode (chunks are recomputed, docs/ensemble.md §5),
    and new parameter values reuse the compiled program.

    Args:
      model: :class:`~jaxthermo.InhomogeneousReservoir` with ``distribution`` set.
      rho0: initial system state (d, d); its precision (complex128/complex64) sets the run's dtype.
      n_steps: collisions per configuration N.
      n_configs: number of configurations.
      seed: integer seed (the engine's); also a traced integer (e.g. the step of a jitted optax loop:
        fresh configurations every step, one compiled program).
      observable: ``"total_work"`` (W_N), ``"total_heat"`` (Q_N, heat into the system),
        ``"free_energy"`` (F_α(ρ_{S|N}‖τ_S), needs ``alpha``), ``"entropy_production"`` (ΔS_1 + … + ΔS_N =
        β(W_N + Q_N) − (D_1(ρ_{S|N}‖τ_S) − D_1(ρ0‖τ_S)) − Σ_r β_r Q_r, in nats, the engine's
        ``mean_total_entropy_production``), or a function
        ``f(rho_N, W_N, Q_N) -> scalar`` of one configuration (pass the same function object to reuse
        the compiled program).
      alpha: Rényi order of ``"free_energy"`` (any real, ±∞ included; α ≥ 0 with ``quantum``); ``alpha``
        and ``quantum`` are refused for the other observables, which have no order.
      quantum: quantum free energy (and D_1 of ``"entropy_production"``) of coherent states (default: whether
        ``rho0`` has coherences; for a
        traced ``rho0``, under ``jit``/``vmap``/``grad`` over it, the quantum one for α ≥ 0, which
        equals the classical one for diagonal states).
      chunk_size: the most configurations per chunk (default about 2¹⁸/N; a run of fewer takes the least
        power of 4 that holds it, so that sizes share a compiled program); changes nothing beyond rounding.
      draw_dtype: dtype of the δ draws (default the engine's: float64 under x64).
      stderr: also return the standard error: an :class:`~jaxthermo.EnsembleMean` (mean, stderr, n).

    Returns:
      The scalar mean (a JAX array), or :class:`~jaxthermo.EnsembleMean` with ``stderr=True``. An
      observable that is +∞ (−∞) in some configuration has the mean +∞ (−∞), NaN if both signs or a NaN
      occur (NumPy's float64 mean of the same values), and a NaN standard error; a NaN mean of a call
      outside ``jit``/``grad`` also gives a ``RuntimeWarning`` naming the observable.

    Example:
      >>> model = InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=Gaussian(0.1))
      >>> rho0 = thermal_state(2, 1.0, 1.0)
      >>> g = jax.grad(lambda m: ensemble_mean(m, rho0, 50, 100_000))(model)
      >>> g.theta, g.distribution.sigma  # ∂⟨W_N⟩/∂θ, ∂⟨W_N⟩/∂σ
    """
    check_model(model, "ensemble_mean")
    check_density_matrix(rho0, "rho0", dim=model.d)
    for path, leaf in jax.tree_util.tree_flatten_with_path(model)[0]:
        if not is_concrete(leaf):  # traced parameters (an optax loop): staged under validate="always"
            check_finite(leaf, "model" + jax.tree_util.keystr(path))
    stage_scale_checks(model.distribution)  # and the law's spread >= 0
    n_steps = check_positive_int(n_steps, "n_steps")
    n_configs = check_positive_int(n_configs, "n_configs")
    if n_configs > MAX_CONFIGS:
        raise ValueError(f"n_configs={n_configs}: at most 2**32 configurations per seed")
    if not (callable(observable) or observable in OBSERVABLES):
        raise ValueError(
            f"observable must be one of {OBSERVABLES} or a callable (rho_N, W_N, Q_N) -> scalar; got {observable!r}"
        )
    if observable == "free_energy" and alpha is None:
        raise ValueError('alpha: observable="free_energy" needs the Rényi order, e.g. alpha=1.0')
    if observable == "free_energy":
        check_finite_temperature(model.beta, "model.beta")
    check_flag(quantum, "quantum", none_ok=True)
    for name, value in (("alpha", alpha), ("quantum", quantum)):
        takes = ("free_energy",) if name == "alpha" else _QUANTUM  # was ignored: the mean of W_N for alpha=2
        if value is not None and observable not in takes:
            which = " or ".join(f'observable="{t}"' for t in takes)
            raise ValueError(f"{name}={value!r}: only {which} takes it; got observable={observable!r}")
    theta = model.theta
    if is_concrete(theta) and np.ndim(theta) not in (0,) and np.shape(theta) != (n_steps,):
        raise ValueError(f"theta must be a scalar or a schedule of shape ({n_steps},); got {np.shape(theta)}")
    limit = default_objective_chunk(n_steps) if chunk_size is None else check_positive_int(chunk_size, "chunk_size")
    chunk, n_chunks = objective_chunks(n_configs, limit)
    rho0 = as_state(rho0)
    draw_dtype = jnp.dtype(draw_dtype or default_draw_dtype())
    if alpha is not None:
        if np.ndim(alpha) != 0:
            raise ValueError(f"alpha must be one Rényi order (a scalar); got shape {np.shape(alpha)}")
        alpha = check_orders(alpha, "alpha")[0]
    if quantum is None:
        quantum = observable in _QUANTUM and _default_quantum(rho0, alpha)
    seed = jnp.asarray(_concrete_seed(seed) if is_concrete(seed) else seed)
    if not jnp.issubdtype(seed.dtype, jnp.integer) or seed.shape != ():
        raise TypeError(f"seed must be an integer scalar; got {seed.dtype}{seed.shape}")
    fn = _program(n_steps, observable, alpha, bool(quantum), chunk, n_chunks, draw_dtype, bool(stderr))
    # inputs were checked above and δ comes from a validated law: no run-time checks in the traced program
    with config.override(validate="eager"), jax.threefry_partitionable(True):  # the engine's draws
        out = fn(model, rho0, seed, np.int64(n_configs))
    warn_if_nan(out[0] if stderr else out, "ensemble_mean", observable)
    if stderr:
        return EnsembleMean(out[0], out[1], n_configs)
    return out
