"""Model C keeps the precision of its state (README, Precision): float32 in → float32 out, a Python-float
time or parameter (weakly typed) promotes nothing; values agree with the float64 run to float32 accuracy."""

import jax.numpy as jnp
import numpy as np

from jaxthermo import GlobalModel, exact_generator, reduced_map

SM = np.array([[0.0, 1.0], [0.0, 0.0]])


def _model(dtype):
    n = np.diag([0.0, 1.0]).astype(dtype)
    h_i = (0.4 * (np.kron(SM.T, SM) + np.kron(SM, SM.T)) + 0.2 * np.kron(n, n)).astype(dtype)
    return GlobalModel(n, h_i, (1.3 * n).astype(dtype)), np.diag([0.8, 0.2]).astype(dtype)


def test_reduced_map_and_generator_keep_float32_with_a_python_float_time():
    """reduced_map/exact_generator took their precision from ``jnp.asarray(t).dtype``: a Python float t is
    float64 there, so a float32 environment state gave complex128 Φ_t, Φ̇_t and L_t. Now complex64, equal to
    the float64 computation to float32 rounding."""
    model32, rho_e32 = _model(np.float32)
    model64, rho_e64 = _model(np.float64)
    for t in (1.7, 2, np.float32(1.7), np.float64(1.7), jnp.float64(1.7)):
        phi, phi_dot = reduced_map(model32, rho_e32, t)
        gen = exact_generator(model32, rho_e32, t)
        assert phi.dtype == phi_dot.dtype == gen.dtype == jnp.complex64, (t, phi.dtype, gen.dtype)
        ref_phi, ref_phi_dot = reduced_map(model64, rho_e64, float(t))
        ref_gen = exact_generator(model64, rho_e64, float(t))
        np.testing.assert_allclose(phi, ref_phi, atol=2e-6)
        np.testing.assert_allclose(phi_dot, ref_phi_dot, atol=2e-6)
        np.testing.assert_allclose(gen, ref_gen, atol=1e-5)
    # the state sets the precision (a NumPy float64 t also promoted the run to complex128 before)
    assert reduced_map(model64, rho_e64, np.float32(1.7)).phi.dtype == jnp.complex128


def test_energetics_follow_the_state_with_float64_numpy_times():
    """energy_assignment and minimal_dissipation took their precision from the times as well: a float32 state
    with ``np.linspace`` times (float64) ran in complex128 and returned float64, unlike model A and
    quadratic_energetics (the state sets the precision). Now float32, equal to the float64 run to float32
    accuracy; a float64 state with float32 times stays float64."""
    from jaxthermo import energy_assignment, minimal_dissipation

    model32, rho_e32 = _model(np.float32)
    model64, rho_e64 = _model(np.float64)
    rho_s = np.array([[0.3, 0.1], [0.1, 0.7]])
    times = np.linspace(0.0, 4.0, 21)
    ea32 = energy_assignment(model32, np.kron(rho_s, rho_e64).astype(np.float32), times)
    ea64 = energy_assignment(model64, np.kron(rho_s, rho_e64), times)
    md32 = minimal_dissipation(model32, rho_s.astype(np.float32), rho_e32, times)
    md64 = minimal_dissipation(model64, rho_s, rho_e64, times)
    for a32, a64 in ((ea32.energies, ea64.energies), (md32.assignment.heat, md64.assignment.heat)):
        assert a32.dtype == jnp.float32, a32.dtype
        np.testing.assert_allclose(a32, a64, atol=2e-5)
    assert md32.times.dtype == jnp.float32
    md = minimal_dissipation(model64, rho_s, rho_e64, times.astype(np.float32))
    assert md.assignment.heat.dtype == jnp.float64


def test_from_regime_keeps_float32_parameters():
    """from_regime divided Γ by 2·np.sqrt(N1 N2), a NumPy float64 scalar (strongly typed in JAX), so float32
    parameters built a float64 model and a float64 run (h1, coupling, every energetics output). Now float32
    throughout, equal to the float64 model's energetics to float32 accuracy, and the same γ = Γ/(2√(N1 N2))."""
    from jaxthermo import QuadraticReservoirs

    f32 = jnp.float32
    args = dict(detuning=1.0, effective_coupling=0.3, nu2=2.0, g=0.1, beta1=1.0, beta2=0.5)
    for cast in (f32, np.float32):
        m32 = QuadraticReservoirs.from_regime(3, 2, **{k: cast(v) for k, v in args.items()})
        assert m32.h1.dtype == m32.h2.dtype == m32.coupling.dtype == jnp.float32
        np.testing.assert_allclose(m32.coupling, 0.3 / (2 * np.sqrt(6)), rtol=1e-6)
    m64 = QuadraticReservoirs.from_regime(3, 2, **args)
    times = np.linspace(0.0, 5.0, 11)
    out32, out64 = m32.energetics(times.astype(np.float32)), m64.energetics(times)
    for a32, a64 in (
        (out32.energies, out64.energies),
        (out32.minimal_dissipation.heat, out64.minimal_dissipation.heat),
    ):
        assert a32.dtype == jnp.float32
        np.testing.assert_allclose(a32, a64, atol=2e-5)


def test_sweep_over_integer_and_float_temperatures_compiles_once():
    """beta1 = 1 and beta1 = 1.0 were different pytree leaves for jit (int vs float weak types), so a sweep
    over β = 0.5, 1, 2 compiled the energetics again for the integers (2 programs instead of 1). Python ints
    for β, μ are now stored as floats: one program, and the same numbers as the float values."""
    from jaxthermo import QuadraticReservoirs
    from jaxthermo.assignment._quadratic import _quadratic_core

    times = np.linspace(0.0, 2.0, 5)

    def run(**kw):
        return QuadraticReservoirs.from_regime(2, 1, detuning=1.0, effective_coupling=0.3, nu2=2.0, g=0.1, **kw)

    run(beta1=0.5, beta2=0.7, mu1=0.1).energetics(times)
    before = _quadratic_core._cache_size()
    out_int = run(beta1=1, beta2=2, mu1=0, mu2=-1).energetics(times)
    out_float = run(beta1=1.0, beta2=2.0, mu1=0.0, mu2=-1.0).energetics(times)
    assert _quadratic_core._cache_size() == before
    np.testing.assert_array_equal(out_int.energies, out_float.energies)
