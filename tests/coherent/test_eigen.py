"""Eigenoperator form of the interaction (docs/coherent.md; [WCCM] eqs. (9)–(11))."""

import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.coherent import EigenoperatorCoupling, dissipator, qubit_coupling
from tests.coherent.helpers import gibbs
from tests.helpers import random_state


def _three_level():
    """Ladder with unequal gaps (ω₁ = 1, ω₂ = 1.5): each Bohr frequency appears once."""
    e = np.array([0.0, 1.0, 2.5])
    h = np.diag(e)
    l1 = np.zeros((3, 3))
    l1[0, 1] = 1.0
    l2 = np.zeros((3, 3))
    l2[1, 2] = 1.0
    return h, np.stack([l1, l2]), np.array([1.0, 1.5])


def test_eigenoperator_dissipator_drive_and_rates_match_the_generic_formulas():
    h, ops, omega = _three_level()
    rng = np.random.default_rng(60)
    g = rng.normal(size=2) + 1j * rng.normal(size=2)
    chi = np.array([[0, 0.3 + 0.2j, 0.1], [0.3 - 0.2j, 0, -0.4j], [0.1, 0.4j, 0]])
    beta = 0.9
    coupling = EigenoperatorCoupling(ops, ops, g, omega)
    model = jt.eigenoperator_model(coupling, h, h, beta, chi, 0.2, 0.01)
    # V by hand
    v = sum(g[k] * np.kron(ops[k].conj().T, ops[k]) for k in range(2))
    np.testing.assert_allclose(model.V, v + v.conj().T, atol=1e-15)
    # rates: detailed balance and explicit thermal averages
    down, up = (np.asarray(x) for x in coupling.rates(h, beta))
    np.testing.assert_allclose(up / down, np.exp(-beta * omega), rtol=1e-12)
    p = np.exp(-beta * np.diag(h))
    p /= p.sum()
    np.testing.assert_allclose(down, np.abs(g) ** 2 * p[[0, 1]], rtol=1e-12)
    np.testing.assert_allclose(up, np.abs(g) ** 2 * p[[1, 2]], rtol=1e-12)
    # D and G of the eigenoperator form equal the generic −½Tr_A[V,[V,·]] and Tr_A[V(1⊗χ)]
    rho = random_state(3, rng)
    np.testing.assert_allclose(coupling.dissipator(rho, h, beta), dissipator(model, rho), atol=1e-13)
    np.testing.assert_allclose(coupling.drive(chi), jt.coherent_drive(model), atol=1e-14)
    np.testing.assert_allclose(coupling.eigenoperator_residual(h, h), 0.0, atol=1e-15)


def test_qubit_example_constructor_and_coupling():
    c = qubit_coupling(omega=1.2, g=0.7)
    m = jt.qubit_example(omega=1.2, g=0.7, beta=1.5, lam=0.2, tau=0.01)
    sp, sm = np.array([[0, 0], [1, 0]]), np.array([[0, 1], [0, 0]])
    np.testing.assert_allclose(m.V, 0.7 * (np.kron(sp, sm) + np.kron(sm, sp)), atol=1e-15)
    np.testing.assert_allclose(c.drive(m.chi), 0.7 * np.array([[0, 1], [1, 0]]), atol=1e-15)
    down, up = c.rates(m.H_A, 1.5)
    assert c.rates(m.H_A, 1.5)._fields == ("down", "up")
    p = np.diag(gibbs(np.asarray(m.H_A), 1.5)).real
    np.testing.assert_allclose([float(down[0]), float(up[0])], 0.49 * p, rtol=1e-12)
    rho = random_state(2, np.random.default_rng(1))
    np.testing.assert_allclose(c.dissipator(rho, m.H_A, 1.5), dissipator(m, rho), atol=1e-14)


def test_wrong_eigenoperators_are_refused():
    h, ops, omega = _three_level()
    bad = EigenoperatorCoupling(ops, ops, np.ones(2), np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match="not eigenoperators"):
        jt.eigenoperator_model(bad, h, h, 1.0, np.zeros((3, 3)), 0.0, 0.01)
    with pytest.raises(ValueError, match="g and omega"):
        EigenoperatorCoupling(ops, ops, np.ones(3), omega)


def test_coinciding_bohr_frequencies_keep_the_cross_terms_of_the_dissipator():
    """Two resonant system qubits decaying through one ancilla transition (L_1 = σ₋ ⊗ 1, L_2 = 1 ⊗ σ₋,
    A_1 = A_2 = σ₋, ω_1 = ω_2): the dissipator of the eigenoperator form equals −½Tr_A[V, [V, ρ ⊗ ρ_th]]
    computed by NumPy from V itself (and the generic library route), cross terms included. The diagonal
    form Σ_k γ_k⁻D[L_k] + γ_k⁺D[L_k†] alone differs from it by 0.09 here (the old method)."""
    sm, eye = np.array([[0.0, 1.0], [0.0, 0.0]]), np.eye(2)
    ops = np.stack([np.kron(sm, eye), np.kron(eye, sm)])
    h_s = np.kron(np.diag([0.0, 1.0]), eye) + np.kron(eye, np.diag([0.0, 1.0]))
    h_a = np.diag([0.0, 1.0])
    g = np.array([1.0, 0.7 - 0.2j])
    beta = 0.7
    coupling = EigenoperatorCoupling(ops, np.stack([sm, sm]), g, np.array([1.0, 1.0]))
    model = jt.eigenoperator_model(coupling, h_s, h_a, beta, np.array([[0, 1.0], [1.0, 0]]), 0.1, 0.01)
    rho = random_state(4, np.random.default_rng(0))
    # NumPy: −½ Tr_A[V, [V, ρ ⊗ ρ_th]] from the V the model holds
    v = np.asarray(model.V)
    x = np.kron(rho, gibbs(h_a, beta))
    inner = v @ x - x @ v
    expected = -0.5 * np.einsum("iaja->ij", (v @ inner - inner @ v).reshape(4, 2, 4, 2))
    np.testing.assert_allclose(coupling.dissipator(rho, h_a, beta), expected, atol=1e-14)
    np.testing.assert_allclose(coupling.dissipator(rho, h_a, beta), dissipator(model, rho), atol=1e-14)
    # the cross terms matter: the diagonal form alone is not the dissipator of V here
    down, up = (np.asarray(r) for r in coupling.rates(h_a, beta))
    diagonal = np.asarray(jt.coherent.lindblad_term(np.concatenate([ops, np.swapaxes(ops, 1, 2)]), rho[None]))
    diagonal = np.einsum("k,kij->ij", np.concatenate([down, up]), diagonal)
    assert np.max(np.abs(diagonal - expected)) > 1e-2


@pytest.mark.parametrize("name", ["omega", "g"])
def test_qubit_coupling_of_an_array_names_the_parameter_and_vmap(name):
    """qubit_coupling(omega=[1, 2]) failed in a reshape ("cannot reshape array of shape (2,) into shape (1,)")."""
    with pytest.raises(ValueError, match=rf"{name} must be a scalar .*got shape \(2,\).*jax.vmap"):
        qubit_coupling(**{name: np.array([1.0, 2.0])})


def test_qubit_coupling_under_vmap_is_the_coupling_of_each_value():
    import jax

    omegas = np.array([0.5, 1.5])
    batched = jax.vmap(lambda w: qubit_coupling(w, 0.3).omega)(omegas)
    np.testing.assert_array_equal(np.asarray(batched)[:, 0], [qubit_coupling(w, 0.3).omega[0] for w in omegas])
