"""Model C under a physicist's trial (helper-44): a driven H_S(t) on a time grid that does not start at 0.

ρ0 is the global state at t = 0 in every function of the package (a constant H gives
ρ(t) = e^{−iHt}ρ0e^{iHt}, docs/assignment.md §1); the driven RK4 path put it at ``times[0]`` instead, so the
same model with a zero drive gave other energies (0.53 off for a 2 ⊗ 3 model on [1, 4]). Independent
route: SciPy's ``solve_ivp`` (DOP853, rtol 1e-12) of ρ̇ = −i[H(t), ρ] from t = 0, with Q̃_X = ∫Tr{H_X ρ̇} and
W̃_S = ∫Tr{V̇ ρ} accumulated from ``times[0]``.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from jaxthermo import GlobalModel, energy_assignment

SX = np.array([[0.0, 1.0], [1.0, 0.0]], complex)
SM = np.array([[0.0, 1.0], [0.0, 0.0]], complex)
H_S = np.diag([0.0, 1.0]).astype(complex)
H_I = 0.4 * (np.kron(SM.T, SM) + np.kron(SM, SM.T))
H_E = 1.3 * np.diag([0.0, 1.0]).astype(complex)
RHO0 = np.kron(np.array([[0.3, 0.1], [0.1, 0.7]]), np.diag([0.8, 0.2])).astype(complex)


def cosine(t, p):
    return p[0] * jnp.cos(p[1] * t) * SX


def scipy_energetics(amplitude, frequency, times):
    """(Ũ_X (3, T), Q̃_X (3, T), W̃_S (T,)) from ρ(0) = RHO0 at t = 0, the integrals from times[0]."""
    d_e = H_E.shape[0]
    lift = lambda m: np.kron(m, np.eye(d_e))
    h_x = [lift(H_S), H_I, np.kron(np.eye(2), H_E)]
    v = lambda t: amplitude * np.cos(frequency * t) * SX
    v_dot = lambda t: -amplitude * frequency * np.sin(frequency * t) * SX

    def rhs(t, y):
        rho = y[:16].reshape(4, 4)
        parts = [h_x[0] + lift(v(t)), h_x[1], h_x[2]]
        h = sum(parts)
        rho_dot = -1j * (h @ rho - rho @ h)
        rates = [np.trace(x @ rho_dot) for x in parts] + [np.trace(lift(v_dot(t)) @ rho)]
        return np.concatenate([rho_dot.ravel(), rates])

    kw = dict(rtol=1e-12, atol=1e-14, method="DOP853")
    y0 = np.concatenate([RHO0.ravel(), np.zeros(4)]).astype(complex)
    if times[0] > 0:  # ρ(0) → ρ(times[0]); the integrals start there
        y0 = solve_ivp(rhs, (0.0, times[0]), y0, **kw).y[:, -1]
        y0[16:] = 0.0
    grid, index = np.unique(times, return_inverse=True)
    y = solve_ivp(rhs, (times[0], times[-1]), y0, t_eval=grid, **kw).y[:, index] if grid.size > 1 else y0[:, None]
    rhos = y[:16].T.reshape(-1, 4, 4)
    energies = np.array(
        [[np.trace(x @ r).real for x in (h_x[0] + lift(v(t)), h_x[1], h_x[2])] for t, r in zip(times, rhos)]
    ).T
    return energies, y[16:19].real, y[19].real


@pytest.mark.parametrize("times", [np.linspace(1.0, 4.0, 13), np.array([2.5]), np.array([0.3, 0.3, 2.0, 2.1])])
def test_driven_energetics_start_from_rho0_at_t0(times):
    out = energy_assignment(
        GlobalModel(H_S, H_I, H_E, drive=cosine, drive_params=jnp.array([0.5, 2.0])), RHO0, times, substeps=32
    )
    energies, heats, work_s = scipy_energetics(0.5, 2.0, times)
    # the old path was off by O(1) here (ρ0 placed at times[0]); the RK4 error is within its estimate
    true = np.max(np.abs(np.concatenate([out.energies - energies, out.heats - heats, [out.works[0] - work_s]])), axis=0)
    assert np.all(true <= np.asarray(out.integration_error) + 1e-12), (true, out.integration_error)
    assert np.all(np.asarray(out.integration_error) < 2e-6)


def test_zero_drive_equals_the_constant_hamiltonian():
    # the same physics through both paths: exact propagation e^{−iHt} (constant H) and RK4 (a zero drive)
    times = np.linspace(1.0, 4.0, 7)
    constant = energy_assignment(GlobalModel(H_S, H_I, H_E), RHO0, times)
    driven = energy_assignment(
        GlobalModel(H_S, H_I, H_E, drive=cosine, drive_params=jnp.array([0.0, 1.0])), RHO0, times, substeps=32
    )
    h = np.kron(H_S, np.eye(2)) + H_I + np.kron(np.eye(2), H_E)
    u = [expm(-1j * h * t) for t in times]
    exact = np.array([[np.trace(x @ ut @ RHO0 @ ut.conj().T).real for ut in u] for x in (np.kron(H_S, np.eye(2)), H_I)])
    np.testing.assert_allclose(constant.energies[:2], exact, atol=1e-13)
    np.testing.assert_allclose(driven.energies[:2], exact, atol=1e-7)
    np.testing.assert_allclose(driven.heats, constant.heats, atol=1e-7)


def test_traced_times_and_gradient_with_a_late_start():
    # under jit the prefix [0, times[0]] takes `substeps` steps; the values agree with the eager run to the
    # RK4 error its estimate reports, and d W̃_S/d amplitude equals central differences
    times = np.linspace(0.5, 2.0, 7)

    def work(a, t):
        model = GlobalModel(H_S, H_I, H_E, drive=cosine, drive_params=jnp.stack([a, 2.0]))
        return energy_assignment(model, RHO0, t, substeps=16).works[0, -1]

    eager = float(work(0.5, times))
    _, _, work_s = scipy_energetics(0.5, 2.0, times)
    np.testing.assert_allclose(eager, work_s[-1], atol=1e-7)
    np.testing.assert_allclose(float(jax.jit(work)(0.5, jnp.asarray(times))), work_s[-1], atol=1e-5)
    fd = (work(0.5 + 1e-5, times) - work(0.5 - 1e-5, times)) / 2e-5
    np.testing.assert_allclose(float(jax.grad(work)(0.5, times)), float(fd), rtol=1e-6)


def test_float32_state_with_a_late_start():
    times = np.linspace(1.0, 3.0, 5)
    model = GlobalModel(H_S, H_I, H_E, drive=cosine, drive_params=jnp.array([0.5, 2.0]))
    out = energy_assignment(model, RHO0.astype(np.complex64), times, substeps=16)
    assert out.energies.dtype == jnp.float32 and out.works.dtype == jnp.float32
    energies, _, work_s = scipy_energetics(0.5, 2.0, times)
    np.testing.assert_allclose(out.energies, energies, atol=2e-6)
    np.testing.assert_allclose(out.works[0], work_s, atol=2e-6)


# ---------------------------------------------------------------------------------------------------------
# canonical form ([HCLA14]) of generators that have none, and lindblad_generator's shapes

SM = np.array([[0.0, 1.0], [0.0, 0.0]], complex)
RHO_S = np.array([[0.3, 0.1 - 0.2j], [0.1 + 0.2j, 0.7]])


def _commutator_part(r):
    return -1j * (H_S @ r - r @ H_S)


@pytest.mark.parametrize(
    ("generator", "message"),
    [
        (lambda r: _commutator_part(r) + SM @ r @ SM, "does not preserve Hermiticity"),  # reconstructed 0.11 off
        (lambda r: _commutator_part(r) + 0.3 * r, "does not annihilate the trace"),  # 0.21 off
        (lambda r: SM @ r, "does not preserve Hermiticity"),  # 0.5 off
    ],
)
def test_canonical_form_refuses_a_generator_without_one(generator, message):
    # the form returned before belonged to another generator: rebuilt with lindblad_generator it differed from
    # the input by 0.11–0.5 on RHO_S (NumPy), without a word
    from jaxthermo.assignment import canonical_form, canonical_hamiltonian

    with pytest.raises(ValueError, match="generator: " + message):
        canonical_form(generator, 2)
    with pytest.raises(ValueError, match="generator: " + message):
        canonical_hamiltonian(generator, 2)


def test_canonical_form_of_a_lindbladian_rebuilds_it():
    # the check does not refuse a true generator, also one given to rounding (a matrix superoperator)
    from jaxthermo.assignment import canonical_form, lindblad_generator

    gen = lindblad_generator(H_S + 0.2 * SX, np.array([0.7, 0.2]), np.stack([SM, SM.T]))
    form = canonical_form(gen, 2, trace=1.0)
    back = lindblad_generator(form.hamiltonian, form.rates, form.jumps)
    d_rho = lambda r: np.asarray(gen(r))
    expected = (
        -1j * ((H_S + 0.2 * SX) @ RHO_S - RHO_S @ (H_S + 0.2 * SX))
        + 0.7 * (SM @ RHO_S @ SM.T - 0.5 * (SM.T @ SM @ RHO_S + RHO_S @ SM.T @ SM))
        + 0.2 * (SM.T @ RHO_S @ SM - 0.5 * (SM @ SM.T @ RHO_S + RHO_S @ SM @ SM.T))
    )
    np.testing.assert_allclose(d_rho(RHO_S), expected, atol=1e-15)
    np.testing.assert_allclose(np.asarray(back(RHO_S)), expected, atol=1e-13)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((H_S, np.array([1.0, 2.0]), SM[None]), r"rates must have shape \(1,\)"),  # summed 1 + 2 on one jump
        ((H_S, np.array([np.nan]), SM[None]), "rates must be finite"),
        ((H_S, np.array([1.0 + 1.0j]), SM[None]), "rates must be real"),
        ((SM, np.array([1.0]), SM[None]), "hamiltonian is not Hermitian"),
        ((H_S, np.array([1.0]), np.eye(3)[None]), r"jumps must have shape \(m, 2, 2\)"),
        ((np.diag([0.0, 1.0, 2.0]), np.array([1.0]), SM[None]), r"jumps must have shape \(m, 3, 3\)"),
    ],
)
def test_lindblad_generator_refuses_bad_input_naming_it(args, message):
    from jaxthermo.assignment import lindblad_generator

    with pytest.raises(ValueError, match=message):
        lindblad_generator(*args)(RHO_S)


def test_nested_lists_give_the_array_result_without_warnings():
    # energy_assignment read a list ρ0's shape through jnp.shape (a JAX DeprecationWarning from inside the
    # library); lindblad_generator given lists raised "Cannot determine dtype of [[0.0, 0.0], [0.0, 1.0]]"
    import warnings

    from jaxthermo.assignment import lindblad_generator

    model = GlobalModel(H_S, H_I, H_E)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        listed = energy_assignment(model, RHO0.tolist(), [0.0, 1.0])
        gen = lindblad_generator(H_S.real.tolist(), [0.7], [SM.real.tolist()])
        image = np.asarray(gen(RHO_S.tolist()))
    np.testing.assert_array_equal(listed.energies, energy_assignment(model, RHO0, np.array([0.0, 1.0])).energies)
    expected = -1j * (H_S @ RHO_S - RHO_S @ H_S) + 0.7 * (
        SM @ RHO_S @ SM.T - 0.5 * (SM.T @ SM @ RHO_S + RHO_S @ SM.T @ SM)
    )
    np.testing.assert_allclose(image, expected, atol=1e-15)
