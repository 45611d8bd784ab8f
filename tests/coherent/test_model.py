"""Model B inputs: validation (docs/coherent.md), the ancilla state and coherence in the H_A eigenbasis."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.coherent import (
    allowed_lambda_range,
    ancilla_state,
    energy_coherence,
    pinching,
    qubit_example,
    thermal_ancilla,
)
from tests.coherent.helpers import gibbs, random_model_arrays
from tests.helpers import random_hermitian, random_state, random_unitary


@pytest.mark.parametrize("dims", [(2, 2), (2, 3), (3, 2)])
def test_random_model_builds_without_warnings_and_states_are_right(dims):
    rng = np.random.default_rng(sum(dims))
    p = random_model_arrays(*dims, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = jt.CoherentCollisionModel(**p)
    np.testing.assert_allclose(thermal_ancilla(model), gibbs(p["H_A"], p["beta"]), atol=1e-13)
    rho_a = np.asarray(ancilla_state(model))
    np.testing.assert_allclose(rho_a, gibbs(p["H_A"], p["beta"]) + np.sqrt(p["tau"]) * p["lam"] * p["chi"], atol=1e-13)
    assert np.linalg.eigvalsh(rho_a).min() > 0


def test_bad_inputs_raise_named_errors():
    p = random_model_arrays(2, 3, np.random.default_rng(0))
    bad_h = dict(p, H_S=p["H_S"] + np.triu(np.ones((2, 2)), 1))
    with pytest.raises(ValueError, match="H_S is not Hermitian"):
        jt.CoherentCollisionModel(**bad_h)
    with pytest.raises(ValueError, match="chi must have zero diagonal"):
        jt.CoherentCollisionModel(**dict(p, chi=p["chi"] + 0.1 * p["H_A"]))
    with pytest.raises(ValueError, match="tau must be > 0"):
        jt.CoherentCollisionModel(**dict(p, tau=0.0))
    jt.CoherentCollisionModel(**dict(p, beta=-1.0))  # population-inverted ancillae: legal (test_trial_h52)
    with pytest.raises(ValueError, match="V has shape .*one of V, H_S, H_A has the wrong dimension"):
        jt.CoherentCollisionModel(**dict(p, V=np.eye(4)))
    # H_A the odd one out (V 4×4 and chi 2×2 agree with d_S = 2, d_A = 2): named
    small = random_model_arrays(2, 2, np.random.default_rng(1))
    with pytest.raises(ValueError, match=r"H_A \(3×3\).*H_A: V and chi fit d_A = 2"):
        jt.CoherentCollisionModel(**dict(small, H_A=p["H_A"]))
    with pytest.raises(ValueError, match="chi has dimension"):
        jt.CoherentCollisionModel(**dict(p, chi=np.zeros((2, 2))))
    with pytest.raises(ValueError, match="lam must be finite"):
        jt.CoherentCollisionModel(**dict(p, lam=np.nan))


def test_positivity_limit_is_exact_and_reported_with_factor():
    model = qubit_example(beta=1.0, tau=0.04, lam=0.1)
    lo, hi = allowed_lambda_range(model)
    # independent: ρ_th + s σ_x ≥ 0 ⇔ s² ≤ p0 p1 for a qubit
    p0 = 1 / (1 + np.exp(-1.0))
    expected = np.sqrt(p0 * (1 - p0)) / np.sqrt(0.04)
    np.testing.assert_allclose([lo, hi], [-expected, expected], rtol=1e-12)
    edge = model.replace(lam=hi * (1 - 1e-9))
    assert np.linalg.eigvalsh(np.asarray(ancilla_state(edge))).min() > -1e-12
    with pytest.raises(ValueError, match=r"lam: .*not positive.*factor 1\.5"):
        model.replace(lam=1.5 * hi)
    with pytest.raises(ValueError, match="lam"):
        model.replace(lam=-1.5 * hi)


def test_batched_lambda_validation_finds_the_bad_member():
    model = qubit_example(tau=0.01)
    hi = allowed_lambda_range(model)[1]
    jt.CoherentCollisionModel(model.H_S, model.H_A, model.V, 1.0, model.chi, jnp.linspace(0, hi * 0.99, 5), 0.01)
    with pytest.raises(ValueError, match="factor 2"):
        jt.CoherentCollisionModel(model.H_S, model.H_A, model.V, 1.0, model.chi, jnp.array([0.0, 2 * hi]), 0.01)


def test_warnings_for_the_papers_assumptions():
    m = qubit_example()
    sx, sz = np.array([[0, 1], [1, 0]]), np.diag([-1.0, 1.0])
    with pytest.warns(UserWarning, match=r"Tr_A\(V rho_th\) != 0"):
        jt.CoherentCollisionModel(m.H_S, m.H_A, np.kron(sz, sz), 1.0, m.chi, 0.1, 0.01)
    with pytest.warns(UserWarning, match=r"\[V, H_S \+ H_A\] != 0"):
        jt.CoherentCollisionModel(m.H_S, m.H_A, np.kron(sx, sx), 1.0, m.chi, 0.1, 0.01)


def test_energy_coherence_rotates_into_the_h_eigenbasis():
    rng = np.random.default_rng(3)
    for d in (2, 3, 4):
        rho = random_state(d, rng)
        u = random_unitary(d, rng)
        h = u @ np.diag(np.arange(d) + 0.3 * rng.random(d)) @ u.conj().T
        # independent: dephase in the eigenbasis by hand, then S(Δρ) − S(ρ)
        rot = u.conj().T @ rho @ u
        p = np.real(np.diag(rot))
        w = np.linalg.eigvalsh(rho)
        expected = -np.sum(p * np.log(p)) + np.sum(w * np.log(w))
        np.testing.assert_allclose(energy_coherence(rho, h), expected, atol=1e-12)
        np.testing.assert_allclose(energy_coherence(rho, h), jt.coherence(rot), atol=1e-12)


def test_pinching_of_a_degenerate_hamiltonian_keeps_blocks():
    rng = np.random.default_rng(4)
    u = random_unitary(3, rng)
    h = u @ np.diag([0.0, 1.0, 1.0]) @ u.conj().T
    rho = random_state(3, rng)
    rot = u.conj().T @ rho @ u
    mask = np.array([[1, 0, 0], [0, 1, 1], [0, 1, 1]])
    np.testing.assert_allclose(pinching(jnp.asarray(rho), h), u @ (mask * rot) @ u.conj().T, atol=1e-12)
    # χ inside the degenerate block is refused, χ across energies accepted
    h_s = np.diag([0.0, 1.0])
    chi_in = u @ np.array([[0, 0, 0], [0, 0, 1], [0, 1, 0]]) @ u.conj().T
    chi_out = u @ np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]]) @ u.conj().T
    v = np.zeros((6, 6))
    with pytest.raises(ValueError, match="chi"):
        jt.CoherentCollisionModel(h_s, h, v, 1.0, chi_in, 0.01, 0.01)
    jt.CoherentCollisionModel(h_s, h, v, 1.0, chi_out, 0.01, 0.01)


def test_float32_model_computes_in_complex64():
    m = qubit_example(dtype=jnp.float32)
    assert ancilla_state(m).dtype == jnp.complex64
    assert random_hermitian(2, np.random.default_rng(0)).shape == (2, 2)


def test_named_returns_replace_and_foundation_functions():
    m = qubit_example(beta=1.0, tau=0.04, lam=0.1)
    r = allowed_lambda_range(m)
    assert r._fields == ("lower", "upper") and r.lower == r[0] and r.upper == r[1]
    pair = jt.MultiSpeciesModel((m, m))
    hotter = pair.replace(species=(m, m.replace(beta=0.5)))
    assert isinstance(hotter, jt.MultiSpeciesModel) and float(hotter.species[1].beta) == 0.5
    with pytest.raises(ValueError, match="tau"):
        pair.replace(species=(m, m.replace(tau=0.05)))
    # one Gibbs state and one Lindblad term in the package: model B re-exports the foundation's
    from jaxthermo import _qudit, _superoperators

    assert jt.coherent.gibbs_state is _qudit.gibbs_state
    assert jt.coherent.lindblad_term is _superoperators.lindblad_term


def _rotated_qubit_arrays(beta=1.3, tau=0.02, c=0.4 - 0.3j, seed=7):
    """A qubit ancilla with H_A = u diag(−½, ½) u† (u random) and χ = u [[0, c], [c̄, 0]] u†; V = 0 (not needed)."""
    u = random_unitary(2, np.random.default_rng(seed))
    h_a = u @ np.diag([-0.5, 0.5]) @ u.conj().T
    chi = u @ np.array([[0.0, c], [np.conj(c), 0.0]]) @ u.conj().T
    return dict(H_S=np.diag([-0.5, 0.5]), H_A=h_a, V=np.zeros((4, 4)), beta=beta, chi=chi, lam=0.0, tau=tau)


def _hand_lambda_range(beta, tau, c):
    """NumPy by hand: in the eigenbasis of H_A, ρ_th = diag(p0, p1) with p1/p0 = e^{−β}; K = ρ_th^{−1/2} χ ρ_th^{−1/2}
    = [[0, κ], [κ̄, 0]], κ = c/√(p0 p1), whose eigenvalues by the 2×2 formula tr/2 ± √((K00 − K11)²/4 + |κ|²) are
    ±|κ|: λ_max = 1/(√τ |κ|) = −λ_min."""
    root_p0p1 = np.exp(-beta / 2 - np.log1p(np.exp(-beta)))  # √(p0 p1), p0 = 1/(1 + e^{−β}), in log space
    if beta < 700:  # κ representable: the formula as stated
        kappa = c / root_p0p1
        k_min, k_max = -np.sqrt(abs(kappa) ** 2), np.sqrt(abs(kappa) ** 2)
        return -1.0 / (np.sqrt(tau) * k_max), 1.0 / (np.sqrt(tau) * -k_min)
    upper = root_p0p1 / (np.sqrt(tau) * abs(c))  # 1/(√τ |κ|) without forming κ ~ e^{β/2}
    return -upper, upper


def test_allowed_lambda_range_is_a_differentiable_jax_function():
    """λ_max, λ_min against the hand computation; ∂/∂β, ∂/∂τ and ∂/∂(scale of χ) against central differences;
    under jit, vmap and grad (the NumPy version raised on tracers), batched fields broadcast."""
    c = 0.4 - 0.3j
    p = _rotated_qubit_arrays(c=c)
    model = jt.CoherentCollisionModel(**p)
    lo, hi = allowed_lambda_range(model)
    np.testing.assert_allclose([float(lo), float(hi)], _hand_lambda_range(p["beta"], p["tau"], c), rtol=1e-12)

    def upper(beta, tau, s):
        return allowed_lambda_range(model.replace(beta=beta, tau=tau, chi=s * jnp.asarray(p["chi"]))).upper

    x0 = (p["beta"], p["tau"], 1.0)
    for i in range(3):
        h = 1e-5 * x0[i]
        xp, xm = list(x0), list(x0)
        xp[i] += h
        xm[i] -= h
        fd = (float(upper(*xp)) - float(upper(*xm))) / (2 * h)
        grad = float(jax.grad(upper, argnums=i)(*x0))
        np.testing.assert_allclose(grad, fd, rtol=1e-7)
    # closed forms of the derivatives: λ_max ∝ τ^{−1/2}, ∝ 1/s, and ∂ log λ_max/∂β = −tanh(β/2)/2
    hi_f = float(hi)
    np.testing.assert_allclose(float(jax.grad(upper, argnums=1)(*x0)), -hi_f / (2 * p["tau"]), rtol=1e-10)
    np.testing.assert_allclose(float(jax.grad(upper, argnums=2)(*x0)), -hi_f, rtol=1e-10)
    np.testing.assert_allclose(float(jax.grad(upper)(*x0)), -hi_f * np.tanh(p["beta"] / 2) / 2, rtol=1e-10)

    betas = jnp.array([0.5, 1.3, 40.0, 800.0])
    eager = allowed_lambda_range(model.replace(beta=betas))
    jitted = jax.jit(lambda b: allowed_lambda_range(model.replace(beta=b)))(betas)
    mapped = jax.vmap(lambda b: allowed_lambda_range(model.replace(beta=b)))(betas)
    for got in (jitted, mapped):
        np.testing.assert_allclose(np.asarray(got.upper), np.asarray(eager.upper), rtol=1e-14, atol=0)
        np.testing.assert_allclose(np.asarray(got.lower), np.asarray(eager.lower), rtol=1e-14, atol=0)
    for j, b in enumerate(np.asarray(betas)):
        np.testing.assert_allclose(float(eager.upper[j]), _hand_lambda_range(b, p["tau"], c)[1], rtol=1e-11)


def test_allowed_lambda_range_keeps_float32_and_the_edges():
    """float32 model → float32 range (it was float64), equal to the float64 value to float32 precision; χ = 0 gives
    (−∞, +∞); a random qutrit ancilla under jit equals the eager value."""
    m32 = qubit_example(beta=1.0, tau=0.04, dtype=jnp.float32)
    r32, r64 = allowed_lambda_range(m32), allowed_lambda_range(qubit_example(beta=1.0, tau=0.04))
    assert r32.lower.dtype == jnp.float32 and r32.upper.dtype == jnp.float32
    np.testing.assert_allclose(float(r32.upper), float(r64.upper), rtol=1e-6)
    free = allowed_lambda_range(qubit_example(lam=0.0).replace(chi=jnp.zeros((2, 2))))
    assert np.isneginf(float(free.lower)) and np.isposinf(float(free.upper))
    p = random_model_arrays(2, 3, np.random.default_rng(11))
    model = jt.CoherentCollisionModel(**p)
    eager = allowed_lambda_range(model)
    jitted = jax.jit(allowed_lambda_range)(model)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(eager), rtol=1e-14)
    np.testing.assert_allclose(float(eager.upper), 2 * p["lam"], rtol=1e-10)  # random_model_arrays: λ at ½ λ_max
