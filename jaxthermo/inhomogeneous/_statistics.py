"""Single-collision work and heat statistics for qubits (docs/inhomogeneous.md; [ATO-preprint] App. B2,
[ATO19] §III–IV).

A collision maps δ ~ G to y = W/(g0 sin²θ) or y = Q/(g0 sin²θ). Expanding q0(δ) to second order
turns each map into a quadratic ``y ≈ A δ² + B δ + C``:

* work (Hamiltonian kind):  y = δ(q0(δ) − p0)        → A = q0',           B = q0 − p0,       C = 0
* heat, Hamiltonian kind:  y = (1+δ)(p0 − q0(δ))    → A = −(q0' + ½q0''), B = p0 − q0 − q0', C = p0 − q0
* heat, temperature kind:  y = p0 − q0(δ)           → A = −½ q0'',        B = −q0',          C = p0 − q0

(q0, q0', q0'' at δ = 0). With D = B² + 4A(y − C) the roots are δ± = (−B ± √D)/(2A) and the
density is ``G_Y(y) = Σ_± G(δ±)/√D`` on the support D ≥ 0 ([ATO19] eq. (16) with the
discriminant corrected: [ATO19] prints D = q0'² + 4y(q0 − p0), docs/misprints.md; and with the ½ of
the second-order Taylor term, which [ATO19] eqs. (25), (30) omit).

The exact route is :func:`single_collision_samples`: sample δ, run the exact collision.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._collision import Energetics, energetics_properties
from .._dtypes import as_state, cast_floats, real_dtype, real_dtype_for
from .._histogram import Histogram
from .._host import check_untraced
from .._qudit import populations
from .._validation import (
    check_callable,
    check_finite,
    check_key,
    check_numeric,
    check_positive_int,
    is_concrete,
    should_validate,
)
from ._analytics import distribution_of, population_derivatives
from ._dynamics import _check_trajectory_coupling, _collide, _require_scalar_theta, _validate
from ._model import InhomogeneousReservoir, model_a, reservoir_populations

QUANTITIES = ("work", "heat")


class Quadratic(NamedTuple):
    """Coefficients of the second-order map ``y ≈ A δ² + B δ + C`` (scalars)."""

    a: jnp.ndarray
    b: jnp.ndarray
    c: jnp.ndarray


def _check_qubit(model, name):
    if model.d != 2:
        raise ValueError(f"model.d={model.d}: {name} is the qubit result of docs/inhomogeneous.md (d = 2)")


@model_a
def quadratic_coefficients(model: InhomogeneousReservoir, rho, quantity: str = "work") -> Quadratic:
    """``(A, B, C)`` of ``y ≈ A δ² + B δ + C`` for ``quantity`` in {"work", "heat"} (qubits)."""
    _check_qubit(model, "quadratic_coefficients")
    _validate(model, rho, 0.0)
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity={quantity!r}: must be one of {list(QUANTITIES)}")
    model = cast_floats(model, real_dtype_for(as_state(rho).dtype))  # the state's precision sets the result's
    dq, ddq = population_derivatives(model)
    if should_validate(dq) and float(dq[0]) == 0.0:
        raise ValueError("beta, g0: βg0 = 0 makes q0'(0) = 0; the quadratic densities need βg0 != 0")
    q0 = reservoir_populations(model, jnp.zeros((), dq.dtype))[0]
    p0 = populations(as_state(rho))[0].astype(dq.dtype)
    if quantity == "work":
        if model.kind == "temperature":
            raise ValueError("quantity='work': the temperature kind generates no work (W = 0)")
        return Quadratic(dq[0], q0 - p0, jnp.zeros_like(q0))
    if model.kind == "hamiltonian":
        return Quadratic(-(dq[0] + 0.5 * ddq[0]), p0 - q0 - dq[0], p0 - q0)
    return Quadratic(-0.5 * ddq[0], -dq[0], p0 - q0)


def quadratic_density(coeffs: Quadratic, pdf, y):
    """Density of y = Aδ² + Bδ + C for δ with density ``pdf``: ``Σ_± pdf(δ±)/√D``, zero off support.

    A concrete coefficient or ``y`` that is not a finite real number raises naming it (a NaN density, or a complex
    y's, came back without a word)."""
    check_callable(pdf, "pdf", "the density G(δ), a function")
    a, b, c = _checked_coefficients(coeffs)
    check_numeric(y, "y")  # None and strings failed inside JAX; True was y = 1, a complex y gave a complex density
    check_finite(y, "y")  # concrete: at once; traced: staged under validate="always"
    y = jnp.asarray(y)
    disc = b**2 + 4 * a * (y - c)
    inside = disc > 0
    root = jnp.sqrt(jnp.where(inside, disc, 1.0))
    # the roots as q/a and −(y − c)/q, q = −(b + sgn(b)√D)/2, without the cancellation of (−b ± √D)/2a: where
    # |a| ≪ |b| (the Hamiltonian kind's heat at βg0 tanh(βg0/2) = 2, βg0 ≈ 2.3994, has a = 0 up to rounding) that
    # root lost its digits (G_Q 8.65 for 8.81, 6.45 for 6.05 at a = 2e-15); at a = 0 the far root is ±∞ (G = 0 there)
    q = -0.5 * (b + jnp.where(b >= 0, root, -root))
    q_s = jnp.where(q != 0, q, 1.0)
    near = jnp.where(q != 0, -(y - c) / q_s, 0.0)
    far = jnp.where(a != 0, q / jnp.where(a != 0, a, 1.0), jnp.inf)
    total = pdf(near) + pdf(far)
    # a traced NaN y (or coefficient) stays NaN: D ≥ 0 is false for NaN, which read as "off the support" gave 0
    return jnp.where(jnp.isnan(disc), jnp.nan, jnp.where(inside, total / root, 0.0))


class Support(NamedTuple):
    """``(lower, upper)`` bounds of a density's support (one of them infinite)."""

    lower: jnp.ndarray
    upper: jnp.ndarray


def quadratic_support(coeffs: Quadratic) -> Support:
    """``(y_min, y_max)`` of the quadratic map: the vertex bounds y from one side (D ≥ 0).

    At A = 0 the map is linear: the whole line for B ≠ 0, the point C for B = 0 (0·b²/(4·0) gave an empty
    (−∞, −∞) or a NaN bound, e.g. the temperature kind's heat at βg0 = 10⁻²⁰⁰, where A ∝ (βg0)³ underflows).
    Concrete coefficients must be finite and real (NaN bounds came back without a word)."""
    a, b, c = _checked_coefficients(coeffs)
    flat = a == 0
    vertex = c - b**2 / (4 * jnp.where(flat, 1.0, a))
    inf = jnp.full_like(vertex, jnp.inf)
    point = jnp.where(b == 0, c, inf)  # the linear map's ends: C (B = 0) or ±∞
    lower = jnp.where(flat, jnp.where(b == 0, c, -inf), jnp.where(a > 0, vertex, -inf))
    return Support(lower, jnp.where(flat, point, jnp.where(a > 0, inf, vertex)))


def _checked_coefficients(coeffs):
    """``(A, B, C)``, each checked (when concrete) as a finite real number naming ``coeffs.a`` etc."""
    if len(coeffs) != 3:
        raise ValueError(f"coeffs must be (A, B, C), a Quadratic; got {len(coeffs)} entries")
    for name, value in zip(Quadratic._fields, coeffs):
        check_numeric(value, f"coeffs.{name}")
        check_finite(value, f"coeffs.{name}")
    return coeffs


def _pdf(model, distribution):
    distribution = distribution_of(model, distribution)
    if not hasattr(distribution, "pdf"):
        raise ValueError(
            f"distribution: {type(distribution).__name__} has no density; the analytic G_W, G_Q "
            "need a smooth G (Gaussian, Uniform); use single_collision_samples instead"
        )
    return distribution.pdf


# The quadratic map's error ε = W₁(law of y, law of Aδ² + Bδ + C) / std y (:func:`expansion_error`): how far the
# second-order law is from the exact one, in units of y's spread. The density is least accurate next to the edge of
# its support, where it diverges as 1/√D and the neglected third-order term moves the vertex (docs/inhomogeneous.md
# §6 has the table). G integrated over 30 bins between the 5 % and 95 % quantiles of 2·10⁶ exact samples, the worst
# bin was ≤ 4.2 % off wherever ε ≤ 0.01, 7.7–13 % at ε = 0.017–0.019 and 32–49 % at ε ≥ 0.029 (work and heat,
# p0 = 0.2…0.95). The warning was βg0·√⟨δ²⟩ > 0.5, silent up to 45 % (β = 2, g0 = 0.7, p0 = 0.6, σ = 0.25);
# βg0σ alone does not say it (p0 = 0.2: 6 % at βg0σ = 0.42).
VALIDITY_DISTANCE = 0.01
# draws of δ (a fixed key) behind ε: its sampling error ≲ 10⁻³ (absolute)
EXPANSION_DRAWS = 1 << 16


@model_a
def expansion_error(model: InhomogeneousReservoir, rho, quantity, distribution=None) -> float:
    """ε = W₁(law of y, law of Aδ² + Bδ + C) / std y: the validity of the second-order densities (docs/inhomogeneous.md §6).

    For ``quantity`` "work" or "heat" (qubits): the Wasserstein-1 distance between the exact law of y and the law
    whose density :func:`work_density` / :func:`heat_density` give, in units of y's spread (0 where y does not
    vary), from 2¹⁶ draws of δ (a fixed key) in float64; those two warn above 1 %. Concrete arguments only (a
    host-side diagnostic: a traced one raises ``TypeError`` naming it)."""
    check_untraced(
        "expansion_error",
        "it is a diagnostic of concrete parameters, without a derivative: call it outside the transformation",
        model=model,
        rho=rho,
        distribution=distribution,
    )
    distribution = distribution_of(model, distribution)
    model = cast_floats(model, jnp.float64)
    # rho checked there (as_state first took a boolean or float16 matrix as a state)
    a, b, c = (jnp.asarray(x, jnp.float64) for x in quadratic_coefficients(model, rho, quantity))
    p0 = jnp.real(populations(as_state(rho))[0]).astype(jnp.float64)
    delta = jnp.asarray(distribution.sample(jax.random.PRNGKey(0), (EXPANSION_DRAWS,), jnp.float64))
    q0 = reservoir_populations(model, delta)[..., 0]
    if quantity == "work":
        y = delta * (q0 - p0)
    elif model.kind == "hamiltonian":
        y = (1 + delta) * (p0 - q0)
    else:
        y = p0 - q0
    exact, approximate = np.sort(np.asarray(y)), np.sort(np.asarray(a * delta**2 + b * delta + c))
    spread = float(np.std(exact))
    return float(np.mean(np.abs(exact - approximate))) / spread if spread > 0 else 0.0


def _warn_outside_validity(model, rho, distribution, quantity, name):
    if not is_concrete((model, rho, distribution)):
        return  # traced parameters: no warning inside jit
    with jax.ensure_compile_time_eval():  # constants inside jax.jit: evaluated, not staged (a tracer for float())
        error = expansion_error(model, rho, quantity, distribution)
    if error > VALIDITY_DISTANCE:
        warnings.warn(
            f"{name}: the second-order density is used outside its validity: its law is {100 * error:.3g} % of y's "
            f"spread from the exact one (Wasserstein-1, > {100 * VALIDITY_DISTANCE:g} %; expansion_error), and it "
            "is then off by tens of percent next to the edge of its support (docs/inhomogeneous.md §6); compare "
            "with single_collision_samples",
            stacklevel=5,  # the caller of work_density / heat_density (through _density and model_a's wrapper)
        )


def _density(model, rho, y, distribution, quantity, name):
    pdf = _pdf(model, distribution)
    coeffs = quadratic_coefficients(model, rho, quantity)
    _warn_outside_validity(model, rho, distribution, quantity, name)
    return quadratic_density(coeffs, pdf, y)


@model_a
def work_density(model: InhomogeneousReservoir, rho, y, distribution=None):
    """Analytic work density ``G_W(y)``, y = W/(g0 sin²θ), qubits, Hamiltonian kind (docs/inhomogeneous.md).

    ``G_W(y) = Σ_± G(δ±)/√D``, ``D = (q0 − p0)² + 4 q0' y``, supported on
    ``y ≥ −(q0 − p0)²/(4 q0')`` (:func:`work_support`); normalised, ∫G_W dy = 1. A second-order expansion in δ:
    warns where its law is more than 1 % of y's spread from the exact one (:func:`expansion_error`).

    Args:
      model: qubit model (d = 2), Hamiltonian kind.
      rho: system state before the collision (2, 2); only p0 enters.
      y: points (...,).
      distribution: G(δ) with a ``pdf`` (default ``model.distribution``).

    In float32 the relative error grows near the edge y* as ≈ ε (q0/|q0 − p0|)·|y*|/|y − y*| (10⁻³ at
    0.1 % of |y*|; docs/inhomogeneous.md §13): evaluate there in float64.
    """
    return _density(model, rho, y, distribution, "work", "work_density")


@model_a
def heat_density(model: InhomogeneousReservoir, rho, y, distribution=None):
    """Analytic density ``G_Q(y)`` of the heat into the system, y = Q/(g0 sin²θ), qubits, either kind.

    Validity warning and float32 near the support's edge: as :func:`work_density` (docs/inhomogeneous.md §6, §13)."""
    return _density(model, rho, y, distribution, "heat", "heat_density")


@model_a
def work_support(model: InhomogeneousReservoir, rho) -> Support:
    """``(y_min, +∞)`` of G_W: y ≥ −(q0 − p0)²/(4q0'), i.e. W ≥ −sin²θ (p0 a − p1)²/(4βa).

    [ATO-preprint] eq. (B7).
    """
    return quadratic_support(quadratic_coefficients(model, rho, "work"))


@model_a
def heat_support(model: InhomogeneousReservoir, rho) -> Support:
    """``(y_min, y_max)`` of G_Q (one side is infinite)."""
    return quadratic_support(quadratic_coefficients(model, rho, "heat"))


@energetics_properties
class CollisionSamples(NamedTuple):
    """Monte-Carlo samples of one collision: the draws δ (n,) and their :class:`~jaxthermo.Energetics` (n,)."""

    deltas: jnp.ndarray
    energetics: Energetics


@model_a
def single_collision_samples(model: InhomogeneousReservoir, rho, key, n: int, distribution=None) -> CollisionSamples:
    """Exact single-collision statistics by Monte Carlo.

    Samples δ ~ G and runs the exact collision (closed form or full density matrix) for each; no
    Taylor expansion. Returns :class:`CollisionSamples` ``(deltas, energetics)`` (unpacks as
    ``deltas, e``) with ``energetics.work``, ``.heat`` (into the system), ``.energy_change`` of shape (n,).
    The δ's are drawn in float64 (under x64) and cast to the state's precision, so a float32 call
    samples the same δ's as the float64 one.
    """
    n = check_positive_int(n, "n")
    check_key(key)
    distribution = distribution_of(model, distribution)
    _validate(model, rho, 0.0)
    _require_scalar_theta(model, "sample each collision of a schedule with its own model.replace(theta=θ_r)")
    rho = as_state(rho)
    rdt = real_dtype_for(rho.dtype)
    # drawn at the default precision and cast (the engine's float32 runs transform the same float64 uniforms in
    # float32 instead, docs/ensemble.md §1): float32 and float64 calls see the same δ's up to float32 rounding,
    # not two random streams
    deltas = distribution.sample(key, (n,), real_dtype()).astype(rdt)
    theta = jnp.asarray(model.theta).astype(rdt)
    # a user's U is built under vmap, where check_unitary cannot look: checked at every draw beforehand (a coupling
    # returning 2U gave heats 4x the unitary ones without a word)
    _check_trajectory_coupling(model, deltas, jnp.broadcast_to(theta, deltas.shape), "the sampled collisions")
    return CollisionSamples(deltas, _collisions_at(model, rho, deltas, theta).energetics)


@jax.jit
def _collisions_at(model, rho, deltas, theta):
    """One exact collision from ``rho`` for each δ (n,), compiled once per model structure and n (a
    new closure at every call recompiled it)."""
    return jax.vmap(lambda x: _collide(model, rho, x, theta))(deltas)


@model_a
def single_collision_histogram(
    model: InhomogeneousReservoir,
    rho,
    key,
    n: int,
    quantity: str = "work",
    bins: int = 50,
    y_range=None,
    distribution=None,
) -> Histogram:
    """Exact Monte-Carlo histogram of y = W/(g0 sin²θ) or Q/(g0 sin²θ) for one collision.

    The counterpart of :func:`work_density` / :func:`heat_density` (any d here, no Taylor expansion).
    Returns a :class:`~jaxthermo.Histogram` (``np.histogram`` binning; values outside ``y_range``
    counted as under/overflow) whose ``density`` and ``stderr`` are (bins,) arrays.
    """
    check_untraced(
        "single_collision_histogram",
        "its counts are NumPy integers. Differentiate a mean over single_collision_samples (JAX arrays) instead",
        model=model,
        rho=rho,
        distribution=distribution,
    )
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity={quantity!r}: must be one of {list(QUANTITIES)}")
    bins = check_positive_int(bins, "bins")
    _, e = single_collision_samples(model, rho, key, n, distribution)
    scale = float(model.g0) * float(np.sin(float(model.theta))) ** 2
    if scale == 0:
        raise ValueError("g0, theta: y = W/(g0 sin²θ) needs g0 sin²θ != 0")
    y = np.asarray(getattr(e, quantity)) / scale
    return Histogram.from_samples(y, bins=bins, range=y_range, range_name="y_range")
