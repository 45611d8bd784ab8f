"""Model C's parameters checked when traced, under ``jaxthermo.config.validate = "always"`` (README, "Validation and
files"): inside ``jax.jit`` a bad traced Hamiltonian, coupling, β or μ stops the run with an error naming the
parameter, as the concrete value is refused at once; ``from_regime`` and ``homogeneous`` name their own arguments.
Before, a bosonic reservoir at β < 0 or with μ above its spectrum gave finite numbers and a NaN coupling NaN heats."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt

TIMES = jnp.linspace(0.0, 2.0, 5)
SX = np.array([[0.0, 1.0], [1.0, 0.0]])
SZ = np.diag([-1.0, 1.0])
RHO0 = np.kron(np.diag([0.3, 0.7]), np.diag([0.9, 0.1]))


@pytest.fixture
def always():
    """``validate = "always"`` for one test; the previous setting is restored after it."""
    old = jt.config.validate
    jt.config.validate = "always"
    try:
        yield
    finally:
        jt.config.validate = old


def _refused(fn, arg, match):
    """``fn(arg)`` (jitted, traced ``arg``) raises an error whose message matches ``match``; returns the message."""
    with pytest.raises(Exception, match=match) as info:
        jax.block_until_ready(jax.jit(fn)(arg))
    assert isinstance(info.value, (ValueError, jax.errors.JaxRuntimeError))
    return str(info.value)


def _boson_heat(beta1=1.0, mu1=0.0, detuning=0.2):
    model = jt.QuadraticReservoirs.from_regime(3, 3, detuning, 1.0, 2.0, 0.1, beta1, 0.5, mu1, statistics="boson")
    return model.energetics(TIMES).bare.heat[-1]


def _global_heat(g):
    model = jt.GlobalModel(0.5 * SZ, g * np.kron(SX, SX), 0.7 * SZ)
    return jt.energy_assignment(model, RHO0, TIMES).bare.heat[-1]


def test_bosonic_beta_and_mu_are_checked_when_traced(always):
    _refused(lambda b: _boson_heat(beta1=b), -1.0, "beta1.*> 0")
    _refused(lambda b: _boson_heat(beta1=b), 0.0, "beta1.*> 0")
    _refused(lambda m: _boson_heat(mu1=m), 5.0, "h1 − mu1·1 must be positive definite")
    _refused(lambda b: _boson_heat(beta1=b), jnp.nan, "beta1 must be finite")
    _refused(lambda m: _boson_heat(mu1=m), jnp.nan, "mu1 must be finite")
    for bad, match in ((-1.0, "beta1"), (5.0, "mu1")):  # the concrete values, refused at once
        with pytest.raises(ValueError, match=match):
            _boson_heat(**({"beta1": bad} if match == "beta1" else {"mu1": bad}))


def test_reservoir_2_names_the_parameters_as_given(always):
    """energetics(reservoir=2) works on the swapped model, whose beta1 is the given beta2: the error names beta2."""

    def heat(beta2=0.5, detuning=0.2):
        model = jt.QuadraticReservoirs.from_regime(2, 2, detuning, 1.0, 2.0, 0.1, 1.0, beta2, statistics="boson")
        return model.energetics(TIMES, reservoir=2).bare.heat[-1]

    for _ in range(3):  # one staged error per bad value: the message does not depend on which callback runs first
        assert "beta1" not in _refused(lambda b: heat(beta2=b), -1.0, "beta2.*> 0")
        assert "h1 must" not in _refused(lambda d: heat(detuning=d), jnp.nan, "detuning must be finite")


def test_good_traced_parameters_pass_with_the_eager_values(always):
    np.testing.assert_allclose(jax.jit(lambda b: _boson_heat(beta1=b))(1.0), _boson_heat(beta1=1.0), atol=1e-14)
    np.testing.assert_allclose(jax.jit(_global_heat)(0.3), _global_heat(0.3), atol=1e-14)
    # vmap and grad compose with the staged checks and leave the values and derivatives as they are
    betas = jnp.array([0.7, 1.0, 2.0])
    sweep = jax.vmap(lambda b: _boson_heat(beta1=b))(betas)
    np.testing.assert_allclose(sweep, [_boson_heat(beta1=float(b)) for b in betas], atol=1e-13)
    with jt.config.override(validate="eager"):
        expected = jax.grad(lambda b: _boson_heat(beta1=b))(1.0)
    np.testing.assert_allclose(jax.jit(jax.grad(lambda b: _boson_heat(beta1=b)))(1.0), expected, atol=1e-13)


def test_a_bad_member_of_a_vmapped_sweep_is_refused(always):
    _refused(jax.vmap(lambda b: _boson_heat(beta1=b)), jnp.array([1.0, -2.0]), "beta1.*> 0")


def test_traced_matrices_of_a_global_model_are_checked(always):
    _refused(_global_heat, jnp.nan, "h_interaction must be finite")
    _refused(
        lambda a: jt.energy_assignment(jt.GlobalModel(SZ + a * np.triu(SX), np.zeros((4, 4)), SZ), RHO0, TIMES).heats,
        0.3,
        "h_system is not Hermitian",
    )
    _refused(
        lambda e: (
            jt.minimal_dissipation(
                jt.GlobalModel(SZ, 0.3 * np.kron(SX, SX), e * SZ), np.diag([0.3, 0.7]), np.diag([0.9, 0.1]), TIMES
            ).assignment.heat
        ),
        jnp.inf,
        "h_environment must be finite",
    )


def test_traced_matrices_and_coupling_of_quadratic_reservoirs_are_checked(always):
    h, hopping = np.diag([1.0, 2.0]), 0.1 * np.ones((2, 2))

    def heat(h1=h, coupling=hopping, beta2=1.0):
        return jt.QuadraticReservoirs(h1, h, coupling, 1.0, beta2).energetics(TIMES).bare.heat[-1]

    _refused(lambda a: heat(h1=h + a * np.triu(SX)), 0.5, "h1 is not Hermitian")
    _refused(lambda a: heat(h1=a * h), jnp.nan, "h1 must be finite")
    _refused(lambda c: heat(coupling=c * np.ones((2, 2))), jnp.inf, "coupling must be finite")
    _refused(lambda b: heat(beta2=b), jnp.nan, "beta2 must be finite")


def test_traced_arguments_of_from_regime_and_homogeneous_are_named(always):
    _refused(lambda d: _boson_heat(detuning=d), jnp.nan, "detuning must be finite")
    for position, name in enumerate(("omega1", "omega2", "g", "gamma")):
        args = [2.0, 1.5, 0.1, 0.2]

        def heat(x, position=position):
            values = args[:position] + [x] + args[position + 1 :]
            return jt.QuadraticReservoirs.homogeneous(2, 2, *values).energetics(TIMES).bare.heat[-1]

        _refused(heat, jnp.nan, f"{name} must be finite")


def test_drive_values_and_generator_parameters_are_checked_when_traced(always):
    model = lambda a: jt.GlobalModel(
        SZ, 0.2 * np.kron(SX, SX), SZ, drive=lambda t, p: p * jnp.sin(t) * np.triu(SX), drive_params=a
    )
    _refused(
        lambda a: jt.energy_assignment(model(a), RHO0, TIMES, substeps=2).heats, 0.4, "drive\\(t\\) is not Hermitian"
    )
    _refused(lambda a: jt.energy_assignment(model(a), RHO0, TIMES, substeps=2).heats, jnp.nan, "drive_params")
    k = lambda a: jt.assignment.lindblad_generator(SZ + a * np.triu(SX), jnp.ones(1), SX[None])(np.eye(2) / 2)
    _refused(k, 0.5, "hamiltonian is not Hermitian")
    decay = lambda g: jt.canonical_hamiltonian(lambda r: -1j * (SZ @ r - r @ SZ) + g * r, 2)  # not trace-annihilating
    _refused(decay, 0.5, "generator: does not annihilate the trace")
    _refused(lambda tr: jt.canonical_hamiltonian(lambda r: -1j * (SZ @ r - r @ SZ), 2, trace=tr), jnp.nan, "trace")
    reduced = lambda t: jt.reduced_map(jt.GlobalModel(SZ, 0.2 * np.kron(SX, SX), SZ), np.eye(2) / 2, t).phi
    _refused(reduced, -0.5, "t must be a finite time >= 0")
    md = lambda r: (
        jt.minimal_dissipation(
            jt.GlobalModel(SZ, 0.2 * np.kron(SX, SX), SZ), np.eye(2) / 2, np.eye(2) / 2, TIMES, rcond=r
        ).assignment.heat
    )
    _refused(md, 2.0, "rcond must be a finite number in \\(0, 1\\)")


def test_traced_values_are_not_checked_under_eager():
    """The default ("eager") checks concrete values only: the staged checks cost nothing there."""
    with jt.config.override(validate="eager"):
        assert np.isfinite(jax.jit(lambda b: _boson_heat(beta1=b))(-1.0))


@pytest.mark.parametrize(
    "name, args",
    [
        ("effective_coupling", (0.2, np.nan, 2.0, 0.1)),
        ("detuning", (np.nan, 1.0, 2.0, 0.1)),
        ("nu2", (0.2, 1.0, np.nan, 0.1)),
        ("g", (0.2, 1.0, 2.0, np.inf)),
    ],
)
def test_from_regime_names_its_own_arguments(name, args):
    """A NaN effective_coupling was reported as "coupling must be finite", a NaN detuning, nu2 or g as "h1"."""
    with pytest.raises(ValueError, match=f"^{name} must be finite"):
        jt.QuadraticReservoirs.from_regime(2, 2, *args, 2.0, 0.5, statistics="boson")


def test_from_regime_and_homogeneous_refuse_complex_energies_and_arrays():
    with pytest.raises(TypeError, match="detuning must be real"):
        jt.QuadraticReservoirs.from_regime(2, 2, 0.2 + 1j, 1.0, 2.0, 0.1)
    with pytest.raises(ValueError, match="nu2 must be a scalar"):
        jt.QuadraticReservoirs.from_regime(2, 2, 0.2, 1.0, np.array([2.0, 3.0]), 0.1)
    with pytest.raises(ValueError, match="^gamma must be finite"):
        jt.QuadraticReservoirs.homogeneous(2, 2, 2.0, 1.5, 0.1, np.nan)
    with pytest.raises(TypeError, match="omega1 must be a real number"):
        jt.QuadraticReservoirs.homogeneous(2, 2, "2.0", 1.5, 0.1, 0.2)
    # a complex effective coupling (a complex hopping g_ik) stays allowed
    model = jt.QuadraticReservoirs.from_regime(2, 2, 0.2, 1.0j, 2.0, 0.1)
    assert np.iscomplexobj(model.coupling)
