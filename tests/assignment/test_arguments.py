"""Model C refuses bad arguments with errors naming them, also for traced states under "always"."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo import assignment as A

H_S = jnp.diag(jnp.array([0.0, 1.0]))
H_E = jnp.diag(jnp.array([0.0, 1.0, 2.0]))
MODEL = A.GlobalModel(H_S, 0.1 * jnp.ones((6, 6)), H_E)
TIMES = jnp.linspace(0.0, 1.0, 5)
BAD_QUBIT = jnp.diag(jnp.array([1.5, -0.5]))


def _staged_error(fn, arg, match):
    with jt.config.override(validate="always"), pytest.raises(Exception, match=match) as info:
        jax.block_until_ready(fn(arg))
    assert isinstance(info.value, (ValueError, jax.errors.JaxRuntimeError))


def test_traced_states_are_checked_under_always():
    md = lambda r: A.minimal_dissipation(MODEL, r, jnp.eye(3) / 3, TIMES).assignment.heat
    _staged_error(jax.jit(md), BAD_QUBIT, "rho_s0")
    env = lambda r: A.reduced_map(MODEL, r, 0.5).phi
    _staged_error(jax.jit(env), jnp.diag(jnp.array([1.5, -0.5, 0.0])), "rho_env")
    glob = lambda r: A.energy_assignment(MODEL, r, TIMES).energies
    _staged_error(jax.jit(glob), 2 * jnp.eye(6) / 6, "rho0")
    with jt.config.override(validate="always"):  # a good traced state passes
        assert np.all(np.isfinite(jax.jit(md)(jnp.eye(2) / 2)))


@pytest.mark.parametrize(
    "bad", [jnp.array([0.0, jnp.nan, 1.0]), jnp.array([0.0, 1.0, 0.5]), jnp.array([-1.0, 0.0, 1.0])]
)
def test_traced_time_grids_are_checked_under_always(bad):
    """A NaN, decreasing or negative traced grid gave NaN or integrals over backwards intervals
    without an error even under validate="always"; the concrete grid was refused naming times."""
    rho0 = jnp.eye(6) / 6
    glob = lambda t: A.energy_assignment(MODEL, rho0, t).heats
    _staged_error(jax.jit(glob), bad, "times")
    md = lambda t: A.minimal_dissipation(MODEL, jnp.eye(2) / 2, jnp.eye(3) / 3, t).assignment.heat
    _staged_error(jax.jit(md), bad, "times")
    with jt.config.override(validate="always"):  # a good traced grid passes, equal to the eager call
        np.testing.assert_allclose(jax.jit(glob)(TIMES), glob(TIMES), atol=1e-14)


@pytest.mark.parametrize("rcond", [float("nan"), 0.0, -1.0, float("inf"), 1j])
def test_rcond_must_be_finite_and_positive(rcond):
    res = A.QuadraticReservoirs.from_regime(1, 1, 0.0, 1.0, 2.0, 0.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="rcond"):
        res.energetics(TIMES, rcond=rcond)
    with pytest.raises(ValueError, match="rcond"):
        A.quadratic_energetics(res, TIMES, rcond=rcond)
    with pytest.raises(ValueError, match="rcond"):
        A.minimal_dissipation(MODEL, jnp.eye(2) / 2, jnp.eye(3) / 3, TIMES, rcond=rcond)


def test_gradient_with_respect_to_the_time_grid_outside_jit():
    res = A.QuadraticReservoirs.from_regime(3, 2, 0.5, 0.8, 2.0, 0.1, 2.0, 0.5)
    heat = lambda t_end: res.energetics(jnp.linspace(0.0, t_end, 11)).bare.heat[-1]
    h = 1e-5
    fd = (float(heat(2.0 + h)) - float(heat(2.0 - h))) / (2 * h)
    np.testing.assert_allclose(float(jax.grad(heat)(2.0)), fd, rtol=1e-6)
    rho_s0, rho_env = jnp.diag(jnp.array([0.8, 0.2])), jnp.diag(jnp.array([0.5, 0.3, 0.2]))
    md = lambda t_end: A.minimal_dissipation(MODEL, rho_s0, rho_env, jnp.linspace(0.0, t_end, 5))
    fd = (float(md(1.0 + h).assignment.heat[-1]) - float(md(1.0 - h).assignment.heat[-1])) / (2 * h)
    np.testing.assert_allclose(float(jax.grad(lambda t: md(t).assignment.heat[-1])(1.0)), fd, rtol=1e-6)


@pytest.mark.parametrize("trace", [1j, float("nan"), jnp.array([1.0, 2.0])])
def test_trace_of_the_canonical_hamiltonian_must_be_a_finite_real_scalar(trace):
    generator = lambda r: -1j * (H_S @ r - r @ H_S)
    with pytest.raises(ValueError, match="trace"):
        A.canonical_hamiltonian(generator, 2, trace=trace)
    with pytest.raises(ValueError, match="trace"):
        A.canonical_form(generator, 2, trace=trace)
    with pytest.raises(ValueError, match="trace"):
        A.minimal_dissipation(MODEL, jnp.eye(2) / 2, jnp.eye(3) / 3, TIMES, trace=trace)


def test_drive_is_checked_at_every_time_and_the_map_time_is_finite():
    sm = jnp.array([[0.0, 1.0], [0.0, 0.0]])
    driven = MODEL.replace(drive=lambda t: t * sm)  # Hermitian at t = 0 only
    with pytest.raises(ValueError, match="drive"):
        A.energy_assignment(driven, jnp.eye(6) / 6, TIMES)
    with pytest.raises(ValueError, match="t="):
        A.reduced_map(MODEL, jnp.eye(3) / 3, jnp.nan)


def test_dimension_of_the_generator_is_checked():
    generator = lambda r: -1j * (H_S @ r - r @ H_S)
    for run in (A.canonical_hamiltonian, A.canonical_form):
        with pytest.raises(ValueError, match="d=3"):
            run(generator, 3)
    np.testing.assert_allclose(A.canonical_hamiltonian(generator, 2, trace=1.0), H_S, atol=1e-14)


@pytest.mark.parametrize("name", ["h_system", "h_environment"])
def test_an_empty_hamiltonian_is_refused_naming_it(name):
    """An empty H_S was reported as a wrong h_interaction shape (d_S·d_E = 0 needs (0, 0))."""
    fields = {"h_system": H_S, "h_interaction": 0.1 * jnp.ones((6, 6)), "h_environment": H_E, name: jnp.zeros((0, 0))}
    with pytest.raises(ValueError, match=rf"^{name} must be a \(d, d\) matrix with d >= 1"):
        A.GlobalModel(**fields)
