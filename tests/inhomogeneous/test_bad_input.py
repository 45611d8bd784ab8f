"""Model A refuses bad input early, naming the parameter (README: validation), and never loses a
finished ensemble run to a check of its own inputs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt

MODEL = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=0.3, distribution=jt.Gaussian(0.1))
TAU = jt.thermal_state(2, 1.0, 1.0)

REFUSED = {
    "thermal_state NaN beta": (lambda: jt.thermal_state(2, np.nan, 1.0), ValueError, "beta"),
    "thermal_state infinite beta": (lambda: jt.thermal_state(2, np.inf, 1.0), ValueError, "beta"),
    "thermal_state NaN g": (lambda: jt.thermal_state(2, 1.0, np.nan), ValueError, "g"),
    "thermal_state complex beta": (lambda: jt.thermal_state(2, 1.0 + 1.0j, 1.0), TypeError, "beta"),
    "complex deltas": (lambda: jt.trajectory(MODEL, TAU, jnp.array([0.1 + 5j])), TypeError, "deltas"),
    "free_energies NaN order": (lambda: jt.free_energies(MODEL, TAU, [np.nan]), ValueError, "alphas"),
    "free_energies wrong dimension": (lambda: jt.free_energies(MODEL, jnp.eye(3) / 3, [1.0]), ValueError, "rho"),
    "free_energies non-Hermitian": (
        lambda: jt.free_energies(MODEL, jnp.array([[0.5, 0.3], [0.1, 0.5]]), [1.0]),
        ValueError,
        "rho",
    ),
    "second laws NaN order": (lambda: jt.collision_second_laws(MODEL, TAU, 0.1, [np.nan]), ValueError, "alphas"),
    "ensemble NaN order": (lambda: jt.ensemble(MODEL, TAU, 3, 64, alphas=(np.nan,)), ValueError, "alphas"),
    "ensemble complex order": (lambda: jt.ensemble(MODEL, TAU, 3, 64, alphas=(1 + 1j,)), TypeError, "alphas"),
    "ensemble_mean NaN order": (
        lambda: jt.ensemble_mean(MODEL, TAU, 3, 64, observable="free_energy", alpha=np.nan),
        ValueError,
        "alpha",
    ),
    "work_range of three": (lambda: jt.ensemble(MODEL, TAU, 3, 64, work_range=(0, 1, 2)), ValueError, "work_range"),
    "collision_work_range reversed": (
        lambda: jt.ensemble(MODEL, TAU, 3, 64, collision_work_range=(1.0, 0.0)),
        ValueError,
        "collision_work_range",
    ),
    "work_bins zero": (lambda: jt.ensemble(MODEL, TAU, 3, 64, work_bins=0), ValueError, "work_bins"),
    "distribution not a law": (
        lambda: jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, distribution=0.05),
        TypeError,
        "distribution",
    ),
    "coupling not a coupling": (
        lambda: jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, coupling="swap"),
        TypeError,
        "coupling",
    ),
    "sigma of several laws": (lambda: jt.Gaussian(jnp.array([0.1, 0.2])), ValueError, "sigma"),
    "samples with a theta schedule": (
        lambda: jt.single_collision_samples(MODEL.replace(theta=jnp.full(3, 0.1)), TAU, jax.random.key(0), 10),
        ValueError,
        "theta",
    ),
    "partial_swap_error NaN delta": (lambda: jt.partial_swap_error(MODEL, 1.0, np.nan), ValueError, "delta"),
    # a negative or NaN σ² gave a plausible number (or NaN) from the small-δ expansions
    "small_delta_mean_work negative variance": (
        lambda: jt.inhomogeneous.small_delta_mean_work(MODEL, -0.01),
        ValueError,
        "variance",
    ),
    # the state was taken as given: a trace-2 state gave Q = 0.020 (TAU: -1.3e-4), a boolean one ran as |0><0|
    "small_delta_mean_heat trace-2 state": (
        lambda: jt.inhomogeneous.small_delta_mean_heat(MODEL, 2 * TAU, 0.01),
        ValueError,
        "rho",
    ),
    "small_delta_mean_energy_change boolean state": (
        lambda: jt.inhomogeneous.small_delta_mean_energy_change(MODEL, np.eye(2, dtype=bool), 0.01),
        TypeError,
        "rho",
    ),
    "collision_number_scaling non-Hermitian state": (
        lambda: jt.collision_number_scaling(MODEL, jnp.array([[0.5, 0.3], [0.1, 0.5]]), [10], c=0.5),
        ValueError,
        "rho0",
    ),
    "small_delta_mean_heat NaN variance": (
        lambda: jt.inhomogeneous.small_delta_mean_heat(MODEL, TAU, np.nan),
        ValueError,
        "variance",
    ),
    "small_delta_mean_energy_change negative variance": (
        lambda: jt.inhomogeneous.small_delta_mean_energy_change(MODEL, TAU, jnp.array([0.01, -0.01])),
        ValueError,
        "variance",
    ),
    # G_W(NaN) was 0, read as "off the support"
    "work_density NaN y": (lambda: jt.work_density(MODEL, TAU, jnp.array([0.1, np.nan])), ValueError, "y"),
    "heat_density infinite y": (lambda: jt.heat_density(MODEL, TAU, jnp.array([np.inf])), ValueError, "y"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_bad_input_is_refused_naming_the_parameter(name):
    call, error, parameter = REFUSED[name]
    with pytest.raises(error, match=rf"^{parameter}\b"):
        call()


def test_a_single_order_is_accepted_as_a_sequence_of_one():
    one = jt.ensemble(MODEL, TAU, 3, 64, alphas=2.0)
    seq = jt.ensemble(MODEL, TAU, 3, 64, alphas=(2.0,))
    np.testing.assert_array_equal(one.mean_divergence, seq.mean_divergence)


def test_a_float32_state_in_a_float64_run_finishes():
    """The state passes its check at float32 precision (trace 1 + 3e-8 once in float64); the run's
    result must not re-check it at float64 precision after every chunk has run."""
    model = jt.InhomogeneousReservoir(3, beta=1.0, g0=1.0, theta=0.3, distribution=jt.Gaussian(0.2))
    rho32 = jnp.eye(3, dtype=jnp.float32) / 3
    r32 = jt.ensemble(model, rho32, 5, 128, dtype=jnp.float64)
    r64 = jt.ensemble(model, jnp.eye(3) / 3, 5, 128)
    assert r32.mean_state.dtype == r64.mean_state.dtype
    np.testing.assert_allclose(r32.mean_divergence, r64.mean_divergence, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(r32.mean_work, r64.mean_work, rtol=1e-6, atol=1e-12)


def test_a_nan_y_under_jit_gives_nan_not_zero():
    """Inside jit (validation "eager": no value check) a NaN y must come back NaN, the finite points
    unchanged (against the eager call); before, G_W(NaN) = 0 looked like a point off the support."""
    rho = jnp.diag(jnp.array([0.7, 0.3]))
    y = jnp.array([0.02, np.nan, 0.05])
    jitted = jax.jit(lambda y: jt.work_density(MODEL, rho, y))(y)
    assert np.isnan(jitted[1])
    finite = np.array([0, 2])
    np.testing.assert_allclose(jitted[finite], jt.work_density(MODEL, rho, y[finite]), rtol=1e-12)
    assert float(jitted[0]) > 0
