"""Model B under a physicist's trial (helper-52): population-inverted baths (β < 0), small steady-state populations.

Independent routes: closed forms (Gibbs populations e^{−βE}/Z, detailed balance e^{−βω}), SciPy's expm for the
collision and a Lindblad form built from V's matrix elements (tests/coherent/helpers.py), NumPy eigenvalues.
"""

import warnings

import numpy as np
import pytest
from scipy.linalg import logm

import jaxthermo.coherent as cb
from tests.coherent.helpers import (
    gibbs,
    lindblad_rhs,
    numpy_entropy,
    random_model_arrays,
    reference_collision,
    reference_lindblad,
)

SZ = np.diag([0.5, -0.5])  # listed excited level first: |1⟩ is the ground state
SP = np.array([[0.0, 1.0], [0.0, 0.0]])  # |0⟩⟨1| raises the energy of this H
SX = np.array([[0.0, 1.0], [1.0, 0.0]])


def quiet_model(**fields):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return cb.CoherentCollisionModel(**fields)


# ---------------------------------------------------------------------------------------------------------------
# steady state: every population to its own relative precision


@pytest.mark.parametrize("beta", [20.0, 40.0, -20.0, -40.0])
@pytest.mark.parametrize("excited_first", [True, False])
def test_steady_state_small_population_matches_gibbs(beta, excited_first):
    """λ = 0: ρ_ss = e^{−βH_S}/Z. A population e^{−β} listed where the bordered solve took it as 1 − (1 − p) came out
    with 7e-8 relative error at β = 20, 1e-3 at β = 30 and 0 at β = 40 (Π = +∞ there, Ṡ = +∞, Ḟ = −∞)."""
    h = SZ if excited_first else -SZ
    v = np.kron(SP, SP.T) + np.kron(SP.T, SP)
    model = quiet_model(H_S=h, H_A=h, V=v, beta=beta, chi=SX, lam=0.0, tau=0.01)
    rho = np.asarray(cb.steady_state(model))
    energies = np.diag(h)
    log_p = -beta * energies - np.logaddexp(-beta * energies[0], -beta * energies[1])
    np.testing.assert_allclose(np.diag(rho).real, np.exp(log_p), rtol=1e-12, atol=0)
    assert abs(float(cb.entropy_production_rate(model, rho))) < 1e-12
    assert abs(float(cb.entropy_rate(model, rho))) < 1e-12


# ---------------------------------------------------------------------------------------------------------------
# β < 0: a population-inverted bath, accepted everywhere and right everywhere


def test_negative_beta_rates_obey_detailed_balance():
    """γ⁺/γ⁻ = e^{−βω} > 1 for β < 0: the qubit coupling's rates are g²p_0, g²p_1 with the inverted populations."""
    beta, omega, g = -1.3, 0.8, 0.6
    rates = cb.qubit_coupling(omega, g).rates(np.diag([-omega / 2, omega / 2]), beta)
    p1 = 1.0 / (1.0 + np.exp(beta * omega))  # upper level, e^{−βω/2}/Z
    np.testing.assert_allclose(np.asarray(rates.up), [g**2 * p1], rtol=1e-14)
    np.testing.assert_allclose(np.asarray(rates.down), [g**2 * (1 - p1)], rtol=1e-14)
    np.testing.assert_allclose(float(rates.up[0] / rates.down[0]), np.exp(-beta * omega), rtol=1e-14)


@pytest.mark.parametrize("beta", [-0.7, -3.0])
def test_negative_beta_model_matches_independent_references(beta):
    """A random energy-conserving model (d_S = 2, d_A = 3) at β < 0 (was refused: "beta must be >= 0", while
    EigenoperatorCoupling.rates accepted it): the λ range against ρ_A's eigenvalues, one collision against SciPy,
    the master equation against an independent Lindblad form, the steady state (λ = 0: e^{−βH_S}/Z), Σ of one
    collision from NumPy entropies and SciPy's logm, Π ≥ 0."""
    rng = np.random.default_rng(52)
    p = random_model_arrays(2, 3, rng, beta=beta, lam_fraction=0.5)
    model = cb.CoherentCollisionModel(**p)
    lo, hi = (float(x) for x in cb.allowed_lambda_range(model))
    rho_th = gibbs(p["H_A"], beta)
    for edge in (lo, hi):  # ρ_A singular at the edges, positive inside
        w = np.linalg.eigvalsh(rho_th + np.sqrt(p["tau"]) * edge * p["chi"])
        assert abs(w[0]) < 1e-13 and w[1] > 1e-6
    with pytest.raises(ValueError, match="lam"):
        model.replace(lam=1.01 * hi)

    rho = gibbs(p["H_S"], 0.3)
    s1, a1, x = reference_collision(p, rho)
    c = cb.collide(model, rho)
    np.testing.assert_allclose(np.asarray(c.system), s1, atol=1e-14)
    np.testing.assert_allclose(np.asarray(c.ancilla), a1, atol=1e-14)

    h_eff, jumps = reference_lindblad(p)
    np.testing.assert_allclose(
        np.asarray(cb.master_equation_rhs(model, rho)), lindblad_rhs(h_eff, jumps, rho), atol=1e-14
    )
    ss = np.asarray(cb.steady_state(model))
    assert np.max(np.abs(lindblad_rhs(h_eff, jumps, ss))) < 1e-13
    model0 = model.replace(lam=0.0)
    np.testing.assert_allclose(np.asarray(cb.steady_state(model0)), gibbs(p["H_S"], beta), atol=1e-14)
    assert abs(float(cb.entropy_production_rate(model0, gibbs(p["H_S"], beta)))) < 1e-13
    assert float(cb.entropy_production_rate(model, rho)) > 0

    t = cb.collision_thermodynamics(model, rho)
    info = numpy_entropy(s1) + numpy_entropy(a1) - numpy_entropy(x)
    rho_a = rho_th + np.sqrt(p["tau"]) * p["lam"] * p["chi"]
    rel = float(np.real(np.trace(a1 @ (logm(a1) - logm(rho_a)))))
    np.testing.assert_allclose(float(t.mutual_information), info, rtol=1e-9)
    np.testing.assert_allclose(float(t.ancilla_relative_entropy), rel, rtol=1e-7)
    assert float(t.entropy_production) > 0


def test_negative_beta_stroboscopic_fixed_point_is_the_inverted_gibbs_state():
    """Inverted qubit bath, λ = 0: the stroboscopic map's fixed point (eigenvector of the collision map built from
    SciPy), the library's trajectory from it and the master equation's steady state are all e^{−βH_S}/Z."""
    beta, tau = -1.5, 1e-3
    model = cb.qubit_example(beta=beta, lam=0.0, tau=tau)
    p = {f: np.asarray(getattr(model, f)) for f in ("H_S", "H_A", "V", "chi")} | dict(beta=beta, lam=0.0, tau=tau)
    cols = []
    for k in range(4):
        unit = np.zeros(4, complex)
        unit[k] = 1.0
        cols.append(reference_collision(p, unit.reshape(2, 2))[0].reshape(4))
    w, vecs = np.linalg.eig(np.array(cols).T)
    fixed = vecs[:, np.argmin(np.abs(w - 1))].reshape(2, 2)
    fixed = fixed / np.trace(fixed)
    thermal = gibbs(p["H_S"], beta)
    assert thermal[1, 1] > 0.8  # inverted
    # resonant, energy conserving: ρ_th ⊗ ρ_th is a function of H_S + H_A, invariant under U
    assert np.max(np.abs(fixed - thermal)) < 1e-12
    np.testing.assert_allclose(np.asarray(cb.steady_state(model)), thermal, atol=1e-15)
    traj = cb.stroboscopic_trajectory(model, thermal, 3)
    np.testing.assert_allclose(np.asarray(traj.states[-1]), thermal, atol=1e-14)


# ---------------------------------------------------------------------------------------------------------------
# collision_thermodynamics outside the regime of its leading-order expansion

RHO = np.array([[0.6, 0.2 - 0.1j], [0.2 + 0.1j, 0.4]])


def _exact_ancilla_terms(beta, tau, lam, omega=1.0):
    """From SciPy's collision: S(ρ_A'‖ρ_th) at λ = 0 with log p analytic, and η = max|(ρ_A' − ρ_th)_ij|/√(p_i p_j)."""
    model = cb.qubit_example(omega=omega, beta=beta, lam=lam, tau=tau)
    p = {f: np.asarray(getattr(model, f)) for f in ("H_S", "H_A", "V", "chi")} | dict(beta=beta, lam=lam, tau=tau)
    _, rho_a_out, _ = reference_collision(p, RHO)
    log_p = -beta * np.array([-omega / 2, omega / 2])
    log_p -= np.logaddexp(log_p[0], log_p[1])
    rel = -numpy_entropy(rho_a_out) - float(np.sum(np.diag(rho_a_out).real * log_p))
    delta = rho_a_out - np.diag(np.exp(log_p))
    eta = float(np.max(np.abs(delta) * np.exp(-0.5 * (log_p[:, None] + log_p[None, :]))))
    return model, rel, eta


def test_cold_bath_collision_thermodynamics_warns_outside_its_expansion():
    """β = 50, τ = 0.01: the ancilla's excited population p_1 = e^{−50} changes by ~τg², so S(ρ_A'‖ρ_A) = 0.12 (exact)
    while eq. (15) gives βW_C + ΔC_A ≈ 0: the residual is the whole term. It was returned without a word; now a
    UserWarning names the expansion parameter η (checked against SciPy's collision, ~2.6e19)."""
    model, rel, eta = _exact_ancilla_terms(50.0, 0.01, 0.0)
    with pytest.warns(UserWarning, match=r"expansion parameter eta = .* > 0\.1") as caught:
        t = cb.collision_thermodynamics(model, RHO)
    shown = float(str(caught[0].message).split(" = ")[2].split(" ")[0])
    np.testing.assert_allclose(shown, eta, rtol=1e-2)  # as printed (3 digits)
    assert eta > 1e18
    np.testing.assert_allclose(float(t.ancilla_relative_entropy), rel, rtol=1e-9)
    assert rel > 0.05
    assert abs(float(t.residual_relative_entropy)) > 0.9 * rel  # the leading order misses it entirely


def test_collision_thermodynamics_is_quiet_inside_its_expansion():
    """β = 1, τ = 1e-4, λ = 0: η ≈ 2e-3 (SciPy), no warning, and the residual of eq. (15) is a small fraction of the
    exact S(ρ_A'‖ρ_A)."""
    model, rel, eta = _exact_ancilla_terms(1.0, 1e-4, 0.0)
    assert eta < 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = cb.collision_thermodynamics(model, RHO)
    np.testing.assert_allclose(float(t.ancilla_relative_entropy), rel, rtol=1e-8)
    assert abs(float(t.residual_relative_entropy)) < 0.01 * rel


def test_collision_thermodynamics_warns_for_strong_coherence():
    """λ at half its positivity limit: √τ|λ| max|K| = 0.5, the log of ρ_A is not expanded to leading order (residual
    ~30 % of the terms at β = 1, τ = 0.01); the warning names η ≥ 0.5."""
    lam_max = float(cb.allowed_lambda_range(cb.qubit_example(beta=1.0, tau=0.01, lam=0.0)).upper)
    model = cb.qubit_example(beta=1.0, tau=0.01, lam=0.5 * lam_max)
    with pytest.warns(UserWarning, match=r"expansion parameter eta = .* = 0\.5\d* > 0\.1"):
        t = cb.collision_thermodynamics(model, RHO)
    terms = max(abs(float(t.ancilla_relative_entropy)), abs(float(t.coherence_change)))
    assert abs(float(t.residual_relative_entropy)) > 0.1 * terms


# ---------------------------------------------------------------------------------------------------------------
# EigenoperatorCoupling: one β


def test_eigenoperator_rates_refuse_an_array_of_beta():
    """A ladder with K = 2 terms (ω = 1, 2) and β = [1, 2]: ``rates`` paired term k with β_k (γ⁻ = [0.705, 0.0297]:
    term 1 at β = 1, term 2 at β = 2, from γ⁻_k = |g_k|² ⟨A_k A_k†⟩_th), and ``dissipator`` failed inside an einsum;
    both now raise a ValueError naming beta. Scalar β: the closed form."""
    L1, L2 = np.zeros((3, 3)), np.zeros((3, 3))
    L1[0, 1], L2[1, 2] = 1.0, 1.0
    coupling = cb.EigenoperatorCoupling(
        np.stack([L1, L2]), np.stack([L1, L2]), np.array([1.0, 0.5]), np.array([1.0, 2.0])
    )
    h_a = np.diag([0.0, 1.0, 3.0])
    for call in (
        lambda: coupling.rates(h_a, np.array([1.0, 2.0])),
        lambda: coupling.dissipator(np.eye(3) / 3, h_a, [1.0, 2.0]),
    ):
        with pytest.raises(ValueError, match="beta must be one inverse temperature"):
            call()
    beta = 2.0
    p = np.exp(-beta * np.diag(h_a)) / np.sum(np.exp(-beta * np.diag(h_a)))
    rates = coupling.rates(h_a, beta)
    np.testing.assert_allclose(np.asarray(rates.down), [1.0 * p[0], 0.25 * p[1]], rtol=1e-13)
    np.testing.assert_allclose(np.asarray(rates.up), [1.0 * p[1], 0.25 * p[2]], rtol=1e-13)


@pytest.mark.parametrize("beta", [20.0, -20.0])
def test_cold_and_inverted_ancilla_relative_entropy_to_its_own_precision(beta):
    """λ = 0, the bath's rare level (population p_r = e^{−20}/(1 + e^{−20})) at 10 p_r in ρ_S: S(ρ_A'‖ρ_th) = 8.05e-12.
    For β < 0 it was 3.4e-4 off (log ρ_th written from the lowest level, so β⟨H_A − E_0⟩ and log Z' cancelled
    |β|ΔE = 20 to ε; at β = −30 it gave 0 for 3.7e-16); now 4e-6, as for β > 0. Reference: SciPy's collision, ρ_A'
    diagonal (energy conserving), q_r log(q_r/p_r) + (1 − q_r)(log1p(−q_r) − log1p(−p_r))."""
    p_r = 1 / (1 + np.exp(abs(beta)))
    rare = 1 if beta > 0 else 0
    rho = np.diag([1 - 10 * p_r, 10 * p_r]) if beta > 0 else np.diag([10 * p_r, 1 - 10 * p_r])
    model = cb.qubit_example(beta=beta, lam=0.0, tau=0.01)
    p = {f: np.asarray(getattr(model, f)) for f in ("H_S", "H_A", "V", "chi")} | dict(beta=beta, lam=0.0, tau=0.01)
    _, rho_a_out, _ = reference_collision(p, rho)
    q_r = rho_a_out[rare, rare].real
    expected = q_r * np.log(q_r / p_r) + (1 - q_r) * (np.log1p(-q_r) - np.log1p(-p_r))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # outside the leading-order expansion (η ≫ 1)
        got = float(cb.collision_thermodynamics(model, rho).ancilla_relative_entropy)
    np.testing.assert_allclose(got, expected, rtol=1e-4)


def test_traced_lambda_beyond_a_cold_ancillas_range_is_caught_under_jit():
    """validate = "always", λ traced: β = 40, λ_max = 2.1e-8 (τ = 0.01). λ = 1e-6 and 1e-4 (50 and 5000 times the
    limit) passed the old check (ρ_A's smallest eigenvalue p_1 − τλ² ≥ −1e-10) and gave Σ = +∞; now refused like
    a concrete model. λ = λ_max/2 passes and is finite."""
    import jax

    import jaxthermo

    rho = RHO
    model = cb.qubit_example(beta=40.0, lam=0.0, tau=0.01)
    lam_max = float(cb.allowed_lambda_range(model).upper)
    p_1 = 1 / (1 + np.exp(40.0))
    np.testing.assert_allclose(lam_max, np.sqrt(p_1 * (1 - p_1)) / np.sqrt(0.01), rtol=1e-12)  # K = σ_x/√(p0 p1)
    with jaxthermo.config.override(validate="always"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sigma = jax.jit(lambda lam: cb.collision_thermodynamics(model.replace(lam=lam), rho).entropy_production)
        assert np.isfinite(float(sigma(0.5 * lam_max)))
        for lam in (1e-6, 1e-4):
            with pytest.raises(Exception, match="lam: the ancilla state") as info:
                jax.block_until_ready(sigma(lam))
            assert isinstance(info.value, (ValueError, jax.errors.JaxRuntimeError))
