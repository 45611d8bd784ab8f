"""Foundation helpers against independent routes: SciPy, explicit Kronecker formulas, NumPy quadrature."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import qutip
from scipy.linalg import expm

from jaxthermo._deprecation import deprecated_alias, renamed_keyword
from jaxthermo._information import divergences_to_thermal, quantum_renyi_divergence, renyi_divergence
from jaxthermo._quadrature import (
    composite_gauss_legendre,
    cumulative_integral,
    gauss_hermite_normal,
    gauss_legendre,
    split_gauss_legendre,
)
from jaxthermo._qudit import expectation, gibbs_populations, gibbs_state, thermal_populations
from jaxthermo._superoperators import apply_superoperator, lindblad_dissipator, lindblad_term, superoperator
from jaxthermo._validation import check_positive_int, check_time_grid
from tests.helpers import random_hermitian, random_state


def test_expectation_matches_trace_and_qutip():
    rng = np.random.default_rng(0)
    h, rho = random_hermitian(3, rng), random_state(3, rng)
    assert np.isclose(float(expectation(h, rho)), np.real(np.trace(h @ rho)), atol=1e-14)
    assert np.isclose(float(expectation(h, rho)), qutip.expect(qutip.Qobj(h), qutip.Qobj(rho)), atol=1e-13)
    batch = np.stack([random_state(3, rng) for _ in range(4)])
    assert expectation(h, batch).shape == (4,)


def test_gibbs_state_matches_scipy_and_gradients_are_finite():
    rng = np.random.default_rng(1)
    h = random_hermitian(4, rng)
    w = expm(-0.7 * h)
    assert np.allclose(gibbs_state(h, 0.7), w / np.trace(w), atol=1e-13)
    # large β h: the shift keeps it finite; the ground state is projected on
    g = np.asarray(gibbs_state(h, 1e4))
    e, v = np.linalg.eigh(h)
    assert np.allclose(g, np.outer(v[:, 0], v[:, 0].conj()), atol=1e-12)
    # degenerate spectrum: the derivative in β is finite and matches finite differences
    hd = jnp.diag(jnp.array([0.0, 1.0, 1.0]))
    grad = jax.grad(lambda b: jnp.real(gibbs_state(hd, b)[0, 0]))(0.5)
    fd = (gibbs_state(hd, 0.5 + 1e-6)[0, 0] - gibbs_state(hd, 0.5 - 1e-6)[0, 0]) / 2e-6
    assert np.isfinite(grad) and np.isclose(grad, np.real(fd), rtol=1e-7)


def test_gibbs_populations_agree_with_thermal_populations():
    energies = 1.3 * (np.arange(3) - 1.0)
    assert np.allclose(gibbs_populations(energies, 0.8), thermal_populations(3, 0.8, 1.3), atol=1e-15)
    p = gibbs_populations(jnp.array([0.0, 1.0]), 1e4)  # no overflow, no NaN
    assert np.all(np.isfinite(p)) and np.isclose(p[0], 1.0)


def test_superoperator_matches_kronecker_formula():
    rng = np.random.default_rng(2)
    a, b = random_hermitian(3, rng), rng.normal(size=(3, 3))
    s = superoperator(lambda x: a @ x @ b, 3)
    assert np.allclose(s, np.kron(a, b.T), atol=1e-14)  # row-major: vec(AXB) = (A ⊗ Bᵀ) vec X
    x = rng.normal(size=(3, 3))
    assert np.allclose(apply_superoperator(s, x), a @ x @ b, atol=1e-13)


def test_lindblad_dissipator_matches_qutip():
    rng = np.random.default_rng(3)
    jumps = np.stack([rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2)) for _ in range(2)])
    rates = np.array([0.3, 1.1])
    rho = random_state(2, rng)
    ours = lindblad_dissipator(rates, jumps, rho)
    ref = sum(r * qutip.lindblad_dissipator(qutip.Qobj(j)) for r, j in zip(rates, jumps))
    ref_rho = (ref * qutip.operator_to_vector(qutip.Qobj(rho))).full().reshape(2, 2, order="F")
    assert np.allclose(ours, ref_rho, atol=1e-13)
    assert np.isclose(np.trace(lindblad_term(jumps[0], rho)), 0.0, atol=1e-14)  # trace preserving


def test_quadrature_rules_integrate_exactly():
    x, w = gauss_legendre(5, 0.0, 2.0)
    assert np.isclose(np.sum(w * x**9), 2.0**10 / 10)
    x, w = split_gauss_legendre(6, 1.5)
    assert np.isclose(np.sum(w * np.abs(x)), 1.5**2)  # |x| on [−1.5, 1.5], kink at 0: exact
    x, w = gauss_hermite_normal(10)
    assert np.isclose(np.sum(w * x**4), 3.0)  # E[ε⁴] of a standard normal
    times = jnp.array([0.0, 0.3, 0.3, 1.0])  # a zero-length interval integrates to 0
    nodes, weights = composite_gauss_legendre(times, order=3)
    integral = cumulative_integral(jnp.cos(nodes), weights)
    assert np.allclose(integral, np.sin(np.asarray(times)), atol=1e-6)


def test_one_rule_for_integers_and_time_grids():
    assert check_positive_int(np.int64(3), "n_steps") == 3
    for bad in (0, -1, 2.0, True, "3"):
        with pytest.raises(ValueError, match="n_steps"):
            check_positive_int(bad, "n_steps")
    check_time_grid(np.array([0.0, 0.0, 1.0]))
    for bad in ([[0.0, 1.0]], [], [0.0, np.nan], [1.0, 0.5], [-1.0, 0.0]):
        with pytest.raises(ValueError, match="times"):
            check_time_grid(np.asarray(bad, dtype=float))


def test_divergences_to_thermal_classical_and_quantum():
    p = jnp.array([0.6, 0.4])
    tau = thermal_populations(2, 1.0, 1.0)
    alphas = [0.5, 1.0, 2.0, np.inf]
    got = divergences_to_thermal(jnp.diag(p), 1.0, 1.0, alphas)
    want = [renyi_divergence(p, tau, a) for a in alphas]
    assert got.shape == (4,) and np.allclose(got, want, atol=1e-14)
    quantum = divergences_to_thermal(jnp.diag(p), 1.0, 1.0, alphas, quantum=True)
    assert np.allclose(quantum, want, atol=1e-10)  # commuting states: the classical values
    rho = jnp.array([[0.6, 0.2], [0.2, 0.4]])
    q2 = quantum_renyi_divergence(rho, jnp.diag(tau), 2.0)
    assert np.isclose(divergences_to_thermal(rho, 1.0, 1.0, [2.0], quantum=True)[0], q2)


def test_deprecation_helpers_warn_and_forward():
    def new(x, *, n_steps):
        return x * n_steps

    old = deprecated_alias(new, "old", "new")
    with pytest.warns(DeprecationWarning, match="old is deprecated; use new"):
        assert old(2, n_steps=3) == 6
    with pytest.warns(DeprecationWarning, match="n_collisions"):
        kwargs = renamed_keyword({"n_collisions": 4}, "n_collisions", "n_steps", "f")
    assert kwargs == {"n_steps": 4}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert renamed_keyword({"n_steps": 4}, "n_collisions", "n_steps", "f") == {"n_steps": 4}


def test_both_bipartite_models_report_their_dimensions_as_one_type():
    import jaxthermo as jt

    rng = np.random.default_rng(3)
    a = np.diag([1.0, 1.0], 1)  # ancilla lowering operator of a qutrit: Tr_A(V ρ_th) = 0 below
    v = np.kron(np.array([[0.0, 1.0], [1.0, 0.0]]), a + a.T)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # [V, H_S + H_A] ≠ 0 is warned about and irrelevant here
        coherent = jt.CoherentCollisionModel(
            np.diag([0.0, 1.0]), np.diag([0.0, 1.0, 2.0]), v, 1.0, np.zeros((3, 3)), 0.0, 0.5
        )
    coupled = jt.GlobalModel(random_hermitian(2, rng), 0.4 * random_hermitian(8, rng), random_hermitian(4, rng))
    for model, dims in ((coherent, (2, 3)), (coupled, (2, 4))):
        assert type(model.dims) is jt.Dimensions
        assert (model.dims.system, model.dims.environment) == dims == model.dims
