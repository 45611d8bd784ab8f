"""Model A keeps float32 (README: precision): with a float32 model and state the averaged reservoir,
ε of the approximate second laws, the partial-swap error and the laws' expectations stay float32
(they came back float64: the laws' quadratures ran in float64 under x64), no float64 array is
computed inside, and the values agree with the float64 call to the documented accuracy (~1e-6
relative for O(1) quantities, ≲ 3e-7 absolute for the small differences: mean W, ε, the errors)."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo import inhomogeneous as A

LAWS = {
    "gaussian": lambda dt: jt.Gaussian(dt(0.3)),
    "uniform": lambda dt: jt.Uniform(dt(0.8)),
    "two-point": lambda dt: jt.TwoPoint(dt(0.2)),
    "empirical": lambda dt: jt.Empirical(np.linspace(-0.3, 0.4, 9).astype(dt)),
}
RHO = np.array([[0.7, 0.1], [0.1, 0.3]])


def _model(dt, law="gaussian", d=2):
    return jt.InhomogeneousReservoir(d, beta=dt(1.3), g0=dt(1.0), theta=dt(0.4), distribution=LAWS[law](dt))


CALLS = {
    "averaged_reservoir_state": (lambda m, r: A.averaged_reservoir_state(m), 1e-6),
    "averaged_reservoir_populations": (lambda m, r: A.averaged_reservoir_populations(m), 1e-6),
    "approximate_second_law_epsilon": (lambda m, r: tuple(A.approximate_second_law_epsilon(m)), 3e-7),
    "mean_work": (lambda m, r: A.mean_work(m, r), 3e-7),
    "mean_heat": (lambda m, r: A.mean_heat(m, r), 3e-7),
    "partial_swap_error": (
        lambda m, r: tuple(A.partial_swap_error(m, 2.0, np.real(r[0, 1]).astype(r.real.dtype))),
        3e-7,
    ),
    "mean_partial_swap_error": (lambda m, r: tuple(A.mean_partial_swap_error(m, 2.0)), 3e-7),
    "interaction_picture_exact_unitary": (
        lambda m, r: A.interaction_picture_exact_unitary(m, 2.0, np.real(r[0, 1]).astype(r.real.dtype)),
        1e-6,
    ),
}


def _no_float64_inside(fn, *args):
    jaxpr = str(jax.make_jaxpr(fn)(*args))
    # weak-typed Python literals print as f64[] scalars and do not promote; arrays and casts do
    found = re.findall(r"\S*(?:f64\[\d[^\]]*\]|c128\[|new_dtype=float64|new_dtype=complex128)\S*", jaxpr)
    assert not found, found[:5]


@pytest.mark.parametrize("law", sorted(LAWS))
@pytest.mark.parametrize("name", sorted(CALLS))
def test_float32_in_float32_out(name, law):
    call, atol = CALLS[name]
    out32 = call(_model(np.float32, law), RHO.astype(np.complex64))
    out64 = call(_model(np.float64, law), RHO)
    for a, b in zip(jax.tree_util.tree_leaves(out32), jax.tree_util.tree_leaves(out64)):
        assert a.dtype in (jnp.float32, jnp.complex64), (name, a.dtype)
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=atol)
    _no_float64_inside(lambda m, r: call(m, r), _model(np.float32, law), RHO.astype(np.complex64))


def test_the_averaged_trajectory_computes_nothing_in_float64():
    _no_float64_inside(lambda m, r: A.averaged_trajectory(m, r, 4), _model(np.float32), RHO.astype(np.complex64))


DIAGONAL = np.diag([0.7, 0.3])
MIXED = {
    "collide": lambda m, r: tuple(A.collide(m, r, 0.1)),
    "mean_work": lambda m, r: A.mean_work(m, r),
    "divergences_to_thermal": lambda m, r: A.divergences_to_thermal(m, r, (0.5, 1.0, np.inf)),
    "free_energies": lambda m, r: A.free_energies(m, r, (0.5, 1.0, 2.0)),
    "free_energies quantum": lambda m, r: A.free_energies(m, r, (0.5, 1.0, 2.0), quantum=True),
    "free_energy_changes": lambda m, r: A.free_energy_changes(m, jnp.stack([r, r * 0 + jnp.diag(jnp.diag(r))]), (1.0,)),
    "collision_second_laws": lambda m, r: tuple(A.collision_second_laws(m, r, 0.1, (0.5, 1.0))),
    "small_delta_mean_heat": lambda m, r: A.small_delta_mean_heat(m, r, 0.01),
    "small_delta_mean_energy_change": lambda m, r: A.small_delta_mean_energy_change(m, r, 0.01),
    "quadratic_coefficients": lambda m, r: tuple(A.quadratic_coefficients(m, jnp.diag(jnp.diag(r)))),
    "work_density": lambda m, r: A.work_density(m, jnp.diag(jnp.diag(r)), jnp.asarray([0.01, 0.05], r.real.dtype)),
    "work_support": lambda m, r: tuple(A.work_support(m, jnp.diag(jnp.diag(r)))),
}


@pytest.mark.parametrize("name", sorted(MIXED))
def test_a_float32_state_with_a_python_float_model_gives_float32(name):
    """The state's precision sets the result's, as in collide and mean_work: free_energies,
    collision_second_laws, the small-δ expansions and the quadratic densities came back float64."""
    model = jt.InhomogeneousReservoir(2, beta=1.3, g0=1.0, theta=0.4, distribution=jt.Gaussian(0.1))
    out32 = MIXED[name](model, jnp.asarray(RHO, jnp.complex64))
    out64 = MIXED[name](model, jnp.asarray(RHO, jnp.complex128))
    for a, b in zip(jax.tree_util.tree_leaves(out32), jax.tree_util.tree_leaves(out64)):
        assert a.dtype in (jnp.float32, jnp.complex64), (name, a.dtype)
        finite = np.isfinite(np.asarray(b))
        np.testing.assert_allclose(np.asarray(a)[finite], np.asarray(b)[finite], rtol=1e-6, atol=1e-6)


def test_single_collision_samples_draw_the_same_deltas_in_float32():
    """A float32 call drew another random stream (δ in float32), so its statistics differed from the
    float64 call's by the Monte-Carlo error (~1/√n), not by float32 rounding."""
    model = jt.InhomogeneousReservoir(2, beta=1.3, g0=1.0, theta=0.4, distribution=jt.Gaussian(0.3))
    key = jax.random.key(3)
    d32, e32 = jt.single_collision_samples(model, jnp.asarray(RHO, jnp.complex64), key, 200)
    d64, e64 = jt.single_collision_samples(model, jnp.asarray(RHO), key, 200)
    assert d32.dtype == jnp.float32 and e32.work.dtype == jnp.float32
    np.testing.assert_array_equal(d32, d64.astype(np.float32))
    # the exact collision at each δ, from the float64 call (an independent precision)
    np.testing.assert_allclose(e32.work, e64.work, rtol=1e-5, atol=3e-7)
    np.testing.assert_allclose(e32.heat, e64.heat, rtol=1e-5, atol=3e-7)


def test_collision_number_scaling_keeps_float32():
    """Its per-N arrays came back float64 for a float32 state (host floats gathered into np.array)."""
    model = _model(np.float32)
    out32 = A.collision_number_scaling(model, jnp.asarray(RHO, jnp.complex64), [2, 8], 0.5)
    out64 = A.collision_number_scaling(_model(np.float64), jnp.asarray(RHO), [2, 8], 0.5)
    for name in ("theta", "accumulated_work", "trace_distance"):
        assert getattr(out32, name).dtype == np.float32, name
        np.testing.assert_allclose(getattr(out32, name), getattr(out64, name), rtol=1e-5, atol=3e-7)
    # the N → ∞ limits too (work_limit came back np.float64, the others Python floats)
    for name in ("work_limit", "trace_distance_limit", "work_limit_small_sigma"):
        assert isinstance(getattr(out32, name), np.float32) and isinstance(getattr(out64, name), float), name
        np.testing.assert_allclose(getattr(out32, name), getattr(out64, name), rtol=1e-5, atol=3e-7)


@pytest.mark.parametrize("name", ["work", "heat"])
def test_float32_densities_near_their_edge_follow_the_stated_error(name):
    """docs/inhomogeneous.md §13: near the vertex y* the float32 density's relative error is
    ≈ ε (q0/|q0 − p0|)·|y*|/|y − y*| (D = B² + 4A(y − C) and B = ±(q0 − p0) are differences of nearly equal
    numbers); checked against the float64 density at the same float32 y, within 4× that bound, at 10 %, 1 % and
    0.1 % of |y*| from the edge, and within 1e-5 at the image C of δ = 0."""
    density, support = {"work": (jt.work_density, jt.work_support), "heat": (jt.heat_density, jt.heat_support)}[name]
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.05))
    rho = np.array([[0.75, 0.125], [0.125, 0.25]])
    lo, hi = (float(v) for v in support(model, rho))
    edge, side = (lo, 1.0) if np.isfinite(lo) else (hi, -1.0)
    fractions = np.array([0.1, 0.01, 0.001])
    y = (edge + side * abs(edge) * fractions).astype(np.float32)
    d32 = np.asarray(density(model, jnp.asarray(rho, jnp.complex64), jnp.asarray(y)))
    d64 = np.asarray(density(model, rho, jnp.asarray(y, jnp.float64)))
    assert d32.dtype == np.float32
    q0 = float(jt.thermal_state(2, 1.0, 1.0)[0, 0].real)
    bound = np.finfo(np.float32).eps * q0 / abs(q0 - 0.75) * abs(edge) / np.abs(y.astype(float) - edge)
    assert np.all(np.abs(d32 - d64) / d64 <= 4 * bound), (np.abs(d32 - d64) / d64, bound)
    c = float(A.quadratic_coefficients(model, rho, name)[2])
    inside = np.float32(c)  # the image of δ = 0, |C − y*| = B²/(4|A|) from the edge
    got = density(model, jnp.asarray(rho, jnp.complex64), jnp.asarray([inside]))
    want = density(model, rho, jnp.asarray([inside], jnp.float64))
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5)
