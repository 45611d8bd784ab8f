"""Distributions G(δ) of the reservoir inhomogeneity (docs/inhomogeneous.md).

Every distribution subclasses :class:`Distribution` and is a small pytree that can

* ``sample(key, shape, dtype)`` — reparameterised (δ = σ ε, δ = width·(u − ½)), so gradients flow to
  σ or width;
* ``expectation(f, n_nodes=None, kink_at_zero=False)`` — ``∫ G(δ) f(δ) dδ`` by Gauss quadrature for
  the smooth densities and by exact sums for the discrete ones; ``f`` maps a (n,) array of δ to
  (n, ...) (or a pytree of such arrays). ``kink_at_zero=True`` splits the quadrature at δ = 0 for
  integrands that are not smooth there (|δ|, trace distances to τ_S); exact sums ignore it.
* ``variance`` — ``∫ G(δ) δ² dδ`` (the σ² of the small-δ expansions);
* ``sample_columns(keys, n, dtype)`` — ``sample(keys[i], (n,), dtype)`` in column i of an (n, B)
  array (the ensemble engine's draw; the base class vmaps :meth:`sample`, a law may override it
  with an equal, faster version, as :class:`Gaussian` does);
* optionally ``pdf(delta)`` — the density (smooth distributions only), used by the analytic
  work/heat densities.
"""

from __future__ import annotations

import abc
import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from .._dtypes import float_dtype_of, real_dtype
from .._elementary import standard_normal, standard_normal_columns
from .._quadrature import gauss_hermite_normal, gauss_legendre, split_gauss_legendre, stepped_gauss_legendre
from .._validation import (
    check_callable,
    check_finite,
    check_key,
    check_nonnegative,
    check_numeric,
    check_positive_int,
    check_real_dtype,
    error_if,
    register_checked_dataclass,
    should_validate,
    stages,
)

_QUADRATURE_NODES = 80
_GAUSSIAN_CUT = 9.0  # Gaussian tail beyond 9σ: 2e-19


def _weighted_sum(weights, values):
    """``Σ_n w_n f_n`` over the leading axis of every leaf of a pytree of values."""

    def one(v):
        v = jnp.asarray(v)
        w = weights.astype(v.dtype).reshape((-1,) + (1,) * (v.ndim - 1))
        return jnp.sum(w * v, axis=0)

    return jax.tree_util.tree_map(one, values)


def _integrate(weights, f, nodes):
    """``Σ_n w_n f(x_n)`` for the built-in laws' rules; ``f`` is checked first (an int failed as "'int' object
    is not callable", naming no parameter)."""
    check_callable(f, "f", "a function of the (n,) nodes of δ returning a pytree of (n, ...) arrays")
    return _weighted_sum(weights, f(nodes))


class Distribution(abc.ABC):
    """Base class of the laws G(δ) of the inhomogeneity (the extension point for a user's own law).

    A subclass implements :meth:`sample`, :meth:`expectation` and :attr:`variance`, and may add
    ``pdf(delta)`` (needed only by :func:`~jaxthermo.work_density` and
    :func:`~jaxthermo.heat_density`). It must be a JAX pytree, because models carry it through
    ``jit``/``vmap`` and the ensemble engine stacks models of a sweep; the simplest way is a frozen
    dataclass registered with JAX, as the built-in laws are::

        @jax.tree_util.register_dataclass
        @dataclasses.dataclass(frozen=True)
        class Laplace(jaxthermo.Distribution):
            scale: float

            def sample(self, key, shape=(), dtype=None):
                dtype = dtype or jnp.float64
                return jnp.asarray(self.scale).astype(dtype) * jax.random.laplace(key, shape, dtype)

            def expectation(self, f, n_nodes=None, kink_at_zero=False):
                x, w = ...  # nodes and weights of a quadrature rule for G
                return self.weighted_sum(w, f(x))

            @property
            def variance(self):
                return 2 * jnp.asarray(self.scale) ** 2

    Fields that are static (not arrays) go in ``dataclasses.field(metadata=dict(static=True))``.
    """

    @abc.abstractmethod
    def sample(self, key, shape=(), dtype=None):
        """Draws of δ of the given shape and real dtype (default: the library's real dtype)."""

    def sample_columns(self, keys, n: int, dtype=None):
        """``sample(keys[i], (n,), dtype)`` in column i of an (n, B) array, for keys (B,)."""
        return jax.vmap(lambda k: self.sample(k, (n,), dtype), out_axes=1)(keys)

    @abc.abstractmethod
    def expectation(self, f, n_nodes=None, kink_at_zero: bool = False):
        """``∫ G(δ) f(δ) dδ`` for ``f`` mapping (n,) nodes to a pytree of (n, ...) arrays."""

    def expectation_with_step(
        self, f, center, reach, n_panels: int, n_nodes=None, kink_at_zero: bool = False, kinks=None, growth=None
    ):
        """``∫ G(δ) f(δ) dδ`` for an ``f`` that turns over within ``reach`` of ``center`` (model A's
        τ(δ) near β_r g_r = 0, where the reservoir qudit's populations invert): the continuous
        built-in laws refine their rule there (:func:`~jaxthermo._quadrature.stepped_gauss_legendre`
        with ``n_panels`` panels), split at δ = 0 as well with ``kink_at_zero`` and at each entry of
        ``kinks`` (a (k,) array of δ, may be traced) where ``f`` has a kink. ``growth`` (≥ 0, may be
        traced): entries of ``f`` may grow as e^{growth·|δ|} toward ``center`` (a cold reservoir's small
        populations), so that G(δ) f(δ) peaks in G's tail; :class:`Gaussian` then extends its rule on that
        side. By default, :meth:`expectation` (which splits at δ = 0 only)."""
        return self.expectation(f, n_nodes, kink_at_zero=kink_at_zero or kinks is not None)

    @property
    @abc.abstractmethod
    def variance(self):
        """``∫ G(δ) δ² dδ``."""

    @staticmethod
    def weighted_sum(weights, values):
        """``Σ_n w_n f_n`` over the leading axis of every leaf of the pytree ``values`` (for quadratures)."""
        return _weighted_sum(jnp.asarray(weights), values)


def sample_arguments(key, shape, dtype):
    """``(shape, dtype)`` of a law's ``sample``: a JAX key, a shape of non-negative integers (a float entry was
    truncated, (2.5,) drew 2; −1 failed inside MLIR), a real dtype (default the library's); errors name them."""
    check_key(key)
    dims = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0 for n in dims):
        raise ValueError(f"shape must be a tuple of non-negative integers; got {shape!r}")
    check_real_dtype(dtype)
    return dims, dtype or real_dtype()


def check_distribution(distribution, name: str = "distribution") -> None:
    """``TypeError`` naming ``name`` unless ``distribution`` is a :class:`Distribution` or None (a string or a bare
    σ passed as ``distribution=`` failed with ``AttributeError: 'str' object has no attribute
    'expectation_with_step'``)."""
    if distribution is not None and not isinstance(distribution, Distribution):
        raise TypeError(
            f"{name} must be a Distribution (e.g. Gaussian(sigma)) or None; got {type(distribution).__name__}"
        )
    if distribution is None:
        return
    law = type(distribution).__name__
    if jax.tree_util.treedef_is_leaf(jax.tree_util.tree_structure(distribution)):  # a raw JAX TypeError in jit
        raise TypeError(
            f"{name}: {law} is not a JAX pytree; register it, e.g. @jax.tree_util.register_dataclass on a frozen "
            "dataclass (jaxthermo.Distribution's docstring)"
        )
    leaves = jax.tree_util.tree_leaves(distribution)
    if leaves and not all(should_validate(x) for x in leaves):
        return  # traced (checked where the law is built)
    with jax.ensure_compile_time_eval():  # a law closed over by jax.jit: evaluated, not staged
        variance = distribution.variance
    if not should_validate(variance):
        return
    variance = np.asarray(variance, dtype=float)
    if not (np.all(np.isfinite(variance)) and np.all(variance >= 0)):  # a user law's NaN scale: NaN means, no word
        raise ValueError(
            f"{name}: {law} has variance {variance.tolist()}; a law of δ needs a finite variance >= 0 "
            "(are its parameters finite?)"
        )


def _nodes(n_nodes):
    return _QUADRATURE_NODES if n_nodes is None else check_positive_int(n_nodes, "n_nodes")


@register_checked_dataclass
@dataclasses.dataclass(frozen=True)
class Gaussian(Distribution):
    """Centred Gaussian G(δ) = exp(−δ²/2σ²)/√(2πσ²).

    ``sigma`` is a finite real σ >= 0 whose variance σ² is finite in its own precision
    (σ <= √(largest float), 1.3·10¹⁵⁴ for a Python float or float64, 1.8·10¹⁹ for float32): the
    small-δ expansions use σ² (docs/inhomogeneous.md §4), and a σ beyond it made every one of them
    and the ensemble's variances inf or NaN. Whether a model can use the law also depends on its
    g0, β and precision (:class:`~jaxthermo.InhomogeneousReservoir`).
    """

    sigma: float

    def __post_init__(self):
        _check_scale(self.sigma, "sigma", 1.0, "sigma²")

    def sample(self, key, shape=(), dtype=None):
        shape, dtype = sample_arguments(key, shape, dtype)  # complex128 drew complex δ (σ(x + iy)) without a word
        return jnp.asarray(self.sigma).astype(dtype) * standard_normal(key, shape, dtype)

    def sample_columns(self, keys, n: int, dtype=None):
        check_real_dtype(dtype)
        dtype = dtype or real_dtype()
        return jnp.asarray(self.sigma).astype(dtype) * standard_normal_columns(keys, n, dtype)

    def expectation(self, f, n_nodes: int | None = None, kink_at_zero: bool = False):
        n_nodes = _nodes(n_nodes)
        sigma = jnp.asarray(self.sigma)
        dtype = float_dtype_of(sigma)
        if kink_at_zero:  # f not smooth at δ = 0: Gauss–Legendre on each half-line, cut at 9σ
            x, w = split_gauss_legendre(n_nodes, _GAUSSIAN_CUT)
            w = w * np.exp(-0.5 * x**2) / np.sqrt(2 * np.pi)
        else:
            x, w = gauss_hermite_normal(n_nodes)
        nodes = sigma.astype(dtype) * jnp.asarray(x, dtype)
        return _integrate(jnp.asarray(w, dtype), f, nodes)

    def expectation_with_step(
        self, f, center, reach, n_panels: int, n_nodes=None, kink_at_zero: bool = False, kinks=None, growth=None
    ):
        """As :meth:`Distribution.expectation_with_step`. With ``growth`` the rule reaches beyond 9σ on the
        side of ``center``: e^{growth·|δ|} G(δ) peaks at |δ| = growth·σ², up to the turn (beyond it f saturates),
        so the rule ends 9σ past the nearer of the two (a cold qubit, βg0 = 100, σ = 0.1: q̄_1 = 9.6·10⁻²³ came
        out 68 % low from the 9σ cut)."""
        sigma = jnp.asarray(self.sigma)
        sigma = sigma.astype(float_dtype_of(sigma))
        far = None
        if growth is not None:
            fixed = jax.lax.stop_gradient(sigma)
            peak = jax.lax.stop_gradient(jnp.asarray(growth, sigma.dtype)) * fixed
            turn = jax.lax.stop_gradient(jnp.abs(center) + reach) / jnp.where(fixed > 0, fixed, 1.0)
            far = jnp.where(
                fixed > 0, jnp.maximum(jnp.minimum(peak, turn) + _GAUSSIAN_CUT, _GAUSSIAN_CUT), _GAUSSIAN_CUT
            )
            far = far * jnp.where(jnp.asarray(center) < 0, -1.0, 1.0)
        z, w = _standardised_step_rule(
            sigma, center, reach, n_panels, _nodes(n_nodes), _GAUSSIAN_CUT, kink_at_zero, kinks, far
        )
        return _integrate(w * jnp.exp(-0.5 * z * z) / math.sqrt(2 * math.pi), f, sigma * z)

    def pdf(self, delta):
        """The density; at σ = 0, a point mass at δ = 0: +inf there and 0 elsewhere (as for
        :class:`Uniform` of width 0; the formula gave NaN everywhere)."""
        s = jnp.asarray(self.sigma)
        delta = jnp.asarray(delta)
        positive = s > 0
        safe = jnp.where(positive, s, 1.0)
        density = jnp.exp(-0.5 * (delta / safe) ** 2) / (jnp.sqrt(2 * jnp.pi) * safe)
        return jnp.where(positive, density, jnp.where(delta == 0, jnp.inf, 0.0).astype(density.dtype))

    @property
    def variance(self):
        return jnp.asarray(self.sigma) ** 2


@register_checked_dataclass
@dataclasses.dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform G(δ) on [−width/2, width/2] (variance width²/12).

    ``width`` is finite, >= 0 and width² (of the variance width²/12) is finite in its own precision
    (as for :class:`Gaussian`).
    """

    width: float

    def __post_init__(self):
        _check_scale(self.width, "width", 1.0, "width²")

    def sample(self, key, shape=(), dtype=None):
        shape, dtype = sample_arguments(key, shape, dtype)  # JAX's own message named no parameter
        u = jax.random.uniform(key, shape, dtype)
        return jnp.asarray(self.width).astype(dtype) * (u - 0.5)

    def expectation(self, f, n_nodes: int | None = None, kink_at_zero: bool = False):
        n_nodes = _nodes(n_nodes)
        x, w = split_gauss_legendre(n_nodes, 1.0) if kink_at_zero else gauss_legendre(n_nodes)
        width = jnp.asarray(self.width)
        dtype = float_dtype_of(width)
        nodes = 0.5 * width.astype(dtype) * jnp.asarray(x, dtype)
        return _integrate(jnp.asarray(0.5 * w, dtype), f, nodes)

    def expectation_with_step(
        self, f, center, reach, n_panels: int, n_nodes=None, kink_at_zero: bool = False, kinks=None, growth=None
    ):
        width = jnp.asarray(self.width)  # bounded support: growth needs no wider rule
        width = width.astype(float_dtype_of(width))
        u, w = _standardised_step_rule(width, center, reach, n_panels, _nodes(n_nodes), 0.5, kink_at_zero, kinks)
        return _integrate(w, f, width * u)

    def pdf(self, delta):
        width = jnp.asarray(self.width)
        inside = jnp.abs(delta) <= 0.5 * width
        return jnp.where(inside, 1.0 / width, 0.0)

    @property
    def variance(self):
        return jnp.asarray(self.width) ** 2 / 12.0


@register_checked_dataclass
@dataclasses.dataclass(frozen=True)
class TwoPoint(Distribution):
    """δ = ±delta with probability ½ each (variance delta²).

    ``delta`` is finite, >= 0 and has a finite variance delta² in its own precision (as for
    :class:`Gaussian`).
    """

    delta: float

    def __post_init__(self):
        _check_scale(self.delta, "delta", 1.0, "delta²")

    def sample(self, key, shape=(), dtype=None):
        shape, dtype = sample_arguments(key, shape, dtype)  # an integer dtype truncated ±δ to 0
        sign = jnp.where(jax.random.bernoulli(key, 0.5, shape), 1.0, -1.0).astype(dtype)
        return jnp.asarray(self.delta).astype(dtype) * sign

    def expectation(self, f, n_nodes: int | None = None, kink_at_zero: bool = False):
        delta = jnp.asarray(self.delta)
        dtype = float_dtype_of(delta)
        nodes = jnp.stack([-delta, delta]).astype(dtype)
        return _integrate(jnp.asarray([0.5, 0.5], dtype), f, nodes)

    @property
    def variance(self):
        return jnp.asarray(self.delta) ** 2


@register_checked_dataclass
@dataclasses.dataclass(frozen=True)
class Empirical(Distribution):
    """The empirical distribution of user samples (each sample has weight 1/n).

    ``samples`` are finite and their squares too, in their own precision (the variance is the mean
    of δ², as for :class:`Gaussian`).
    """

    samples: jnp.ndarray

    def __post_init__(self):
        check_numeric(self.samples, "samples")
        if should_validate(self.samples):
            arr = np.asarray(self.samples)
            if arr.ndim != 1 or arr.size == 0:
                raise ValueError(f"samples must be a non-empty 1-d array; got shape {arr.shape}")
            check_finite(arr, "samples")
            _check_variance(arr, "samples", float(np.max(np.abs(arr))), 1.0, "max(samples²)")

    def sample(self, key, shape=(), dtype=None):
        shape, dtype = sample_arguments(key, shape, dtype)
        samples = jnp.asarray(self.samples)
        idx = jax.random.randint(key, shape, 0, samples.shape[0])
        return samples[idx].astype(dtype)

    def expectation(self, f, n_nodes: int | None = None, kink_at_zero: bool = False):
        samples = jnp.asarray(self.samples)
        dtype = float_dtype_of(samples)
        n = samples.shape[0]
        return _integrate(jnp.full((n,), 1.0 / n, dtype), f, samples.astype(dtype))

    @property
    def variance(self):
        s = jnp.asarray(self.samples)
        return jnp.mean(s**2)


def _standardised_step_rule(scale, center, reach, n_panels, n_nodes, cut, kink_at_zero=False, kinks=None, far=None):
    """:func:`stepped_gauss_legendre` on [−cut, cut] in units of ``scale`` (δ = scale·z), split into
    pieces at z = 0 with ``kink_at_zero`` and at each δ of ``kinks`` inside (a kink outside [−cut, cut]
    is clipped to its end, a piece of zero length and weight). With ``far`` (a z beyond −cut or cut, may
    be traced) the rule also covers [far, −cut] (or [cut, far]) as a piece of its own, so [−cut, cut] keeps
    its nodes. At scale 0 the step lies outside (the law is a point mass) and the rule is plain
    Gauss–Legendre."""
    positive = scale > 0
    safe = jnp.where(positive, scale, 1.0)
    # where the rule refines and splits carries no derivative: the integral does not depend on it (at a
    # split the integrand has a kink and vanishes, and the refinement only places nodes); through
    # center/σ and reach/σ, d/dσ was NaN for σ = 10⁻³⁰⁰ at β = 10⁻³⁰⁰ (reach/σ = ∞)
    fixed = jax.lax.stop_gradient(safe)
    center = jnp.where(positive, jax.lax.stop_gradient(center) / fixed, -jnp.inf)
    reach = jnp.where(positive, jax.lax.stop_gradient(reach) / fixed, 0.0)
    lo, hi = jnp.full((1,), -cut, safe.dtype), jnp.full((1,), cut, safe.dtype)
    splits = [jnp.zeros((1,), safe.dtype)] if kink_at_zero else []
    if far is not None:  # the old ends become splits: [−cut, cut] is divided as before
        far = jax.lax.stop_gradient(jnp.asarray(far, safe.dtype))
        splits.append(jnp.concatenate([lo, hi]))
        lo, hi = jnp.minimum(lo, far[None]), jnp.maximum(hi, far[None])
    if kinks is not None:
        kinks = jax.lax.stop_gradient(jnp.ravel(jnp.asarray(kinks, safe.dtype)))
        splits.append(jnp.where(positive, jnp.clip(kinks / fixed, lo, hi), 0.0))
    if not splits:
        return stepped_gauss_legendre(-cut, cut, center, reach, n_panels, n_nodes)
    ends = jnp.concatenate([lo, jnp.sort(jnp.concatenate(splits)), hi])
    pieces = [
        stepped_gauss_legendre(ends[i], ends[i + 1], center, reach, n_panels, n_nodes) for i in range(ends.shape[0] - 1)
    ]
    return tuple(jnp.concatenate(parts) for parts in zip(*pieces))


def _check_scale(value, name, variance_per_square, variance_text):
    """One real, finite, non-negative spread (a scalar: one law per model; ``jax.vmap`` for several)
    whose variance ``variance_per_square · value²`` is finite in the value's precision; a traced one
    >= 0 under ``validate == "always"`` (:func:`stage_scale_checks`)."""
    check_numeric(value, name)
    if not (should_validate(value)):
        _stage_scale(value, name)
        return
    if np.ndim(value) != 0:
        raise ValueError(f"{name} must be a scalar; got shape {np.shape(value)} (use jax.vmap or jt.sweep for several)")
    check_nonnegative(value, name)
    _check_variance(value, name, abs(float(value)), variance_per_square, variance_text)


# the spread of each built-in law, >= 0 (its sign was taken as given: Gaussian(−σ) draws −σ·z, the same law, but
# the derivative in σ flips its sign, and an optimiser stepping σ below 0 went on without a word)
_SCALES = {Gaussian: "sigma", Uniform: "width", TwoPoint: "delta"}


def stage_scale_checks(dist) -> None:
    """A built-in law's traced spread (σ, width, δ), under ``jaxthermo.config.validate == "always"``: >= 0, staged
    (:func:`~jaxthermo._validation.error_if`), as its constructor checks a concrete one. For the functions that
    take a model whose leaves are traced without a constructor call (``jax.grad`` over the model, an optax
    update of it): the constructor's checks do not run there."""
    name = _SCALES.get(type(dist))
    if name is not None:
        _stage_scale(getattr(dist, name), name)


def _stage_scale(value, name) -> None:
    if stages(value):  # a NaN is named by the finiteness checks of the model's leaves (one error, not two)
        error_if(jnp.asarray(value) < 0, f"{name} must be >= 0; got {{value}}", value)


def _check_variance(value, name, spread, variance_per_square, variance_text):
    """``ValueError`` naming ``name`` unless ``variance_per_square · spread²`` (the law's variance, or a
    bound on it) is finite in the precision of ``value`` (float64 for Python numbers)."""
    dtype = np.result_type(np.asarray(value).dtype, np.float32)  # integers: float64
    largest = float(np.finfo(dtype).max)
    bound = math.sqrt(largest / variance_per_square)
    if spread > bound:
        raise ValueError(
            f"{name}={spread:.3g}: the variance {variance_text} overflows {np.dtype(dtype).name} (largest "
            f"{largest:.3g}); {name} must be at most {bound:.3g} in magnitude"
        )


def is_centred(dist) -> bool:
    """Whether ``dist`` is one of the built-in laws centred at δ = 0 (:class:`Gaussian`, :class:`Uniform`,
    :class:`TwoPoint`; exactly these types), whose mean E[δ] = 0 is known exactly."""
    return type(dist) in (Gaussian, Uniform, TwoPoint)


def largest_delta(dist):
    """The largest |δ| at which the model evaluates a built-in law (its draws and quadrature nodes):
    9σ for :class:`Gaussian` (the quadrature's cut; no draw reaches it), width/2, delta, max |samples|;
    ``None`` for a user's own law or traced parameters."""
    reach = {
        Gaussian: lambda: _GAUSSIAN_CUT * np.abs(np.asarray(dist.sigma, float)),
        Uniform: lambda: 0.5 * np.abs(np.asarray(dist.width, float)),
        TwoPoint: lambda: np.abs(np.asarray(dist.delta, float)),
        Empirical: lambda: np.max(np.abs(np.asarray(dist.samples, float))),
    }.get(type(dist))
    leaves = jax.tree_util.tree_leaves(dist)
    if reach is None or not leaves or not all(should_validate(leaf) for leaf in leaves):
        return None
    return float(np.max(reach()))
