"""Verification checks of model C (docs/assignment.md): canonical-form identities, energy bookkeeping and the
closed form of the minimal-dissipation peaks of two homogeneous quadratic reservoirs."""

from __future__ import annotations

import numpy as np

from ...assignment import (
    GlobalModel,
    QuadraticReservoirs,
    canonical_hamiltonian,
    energy_assignment,
    lindblad_generator,
    minimal_dissipation,
)
from ._check import Check, CheckOutcome
from ._random import random_density_matrix, random_hermitian, random_traceless

_HCLA = "[HCLA14], canonical form; docs/assignment.md §3"


def _unitary_generator():
    rng = np.random.default_rng(0)
    worst = 0.0
    for d in (2, 3, 4):
        h = random_hermitian(d, rng)
        k = canonical_hamiltonian(lambda r: -1j * (h @ r - r @ h), d, trace=np.trace(h).real)
        worst = max(worst, float(np.max(np.abs(np.asarray(k) - h))))
    return CheckOutcome(worst < 1e-12, f"max |K_S − H| = {worst:.1e} for d = 2, 3, 4")


def _traceless_dissipator():
    rng = np.random.default_rng(1)
    d = 3
    jumps = np.stack([random_traceless(d, rng) for _ in range(3)])
    gen = lindblad_generator(np.zeros((d, d), complex), np.array([0.5, 1.0, 2.0]), jumps)
    k = float(np.max(np.abs(np.asarray(canonical_hamiltonian(gen, d)))))
    return CheckOutcome(k < 1e-12, f"max |K| = {k:.1e} for a dissipator with traceless jumps (d = 3)")


def _jump_shift():
    rng = np.random.default_rng(2)
    d, c = 3, 0.4 - 0.9j
    l_op = random_traceless(d, rng)
    gen = lindblad_generator(np.zeros((d, d), complex), np.array([1.0]), (l_op + c * np.eye(d))[None])
    expected = 0.5j * (np.conj(c) * l_op - c * l_op.conj().T)
    err = float(np.max(np.abs(np.asarray(canonical_hamiltonian(gen, d)) - expected)))
    return CheckOutcome(err < 1e-12, f"max |K − (i/2)(c̄L − cL†)| = {err:.1e}")


def _bookkeeping():
    """Σ_X Q̃_X = 0 and the bare and interaction assignments against energies of an independent propagation
    (SciPy expm of the global H): their first laws hold by construction (Q̃_X = ΔŨ_X for a constant H)."""
    from scipy.linalg import expm

    rng = np.random.default_rng(3)
    h_s, h_i, h_e = random_hermitian(2, rng), 0.4 * random_hermitian(6, rng), random_hermitian(3, rng)
    rho0, times = random_density_matrix(6, rng), np.linspace(0.0, 5.0, 26)
    out = energy_assignment(GlobalModel(h_s, h_i, h_e), rho0, times)
    total = float(np.max(np.abs(np.asarray(out.heats.sum(0)))))
    first = max(
        float(np.max(np.abs(np.asarray(x.energy - x.energy[0] - x.heat - x.work)))) for x in (out.bare, out.interaction)
    )
    h = np.kron(h_s, np.eye(3)) + h_i + np.kron(np.eye(2), h_e)
    ops = (np.kron(h_s, np.eye(3)), h_i, np.kron(np.eye(2), h_e))
    states = [expm(-1j * h * t) @ rho0 @ expm(1j * h * t) for t in times]
    u_s, u_i, u_e = (np.array([np.trace(o @ r).real for r in states]) for o in ops)
    expected = {
        "bare": (u_s, -(u_e - u_e[0]), -(u_i - u_i[0])),  # U = Ũ_S, Q = −ΔŨ_E, W = −ΔŨ_I
        "interaction": (u_s + u_i, -(u_e - u_e[0]), 0 * u_s),  # U = Ũ_S + Ũ_I, Q = −ΔŨ_E, W = 0
    }
    values = max(
        float(np.max(np.abs(np.asarray(got) - want)))
        for name, (u, q, w) in expected.items()
        for got, want in zip((getattr(out, name).energy, getattr(out, name).heat, getattr(out, name).work), (u, q, w))
    )
    values = max(values, float(np.max(np.abs(np.asarray(out.energies) - np.stack([u_s, u_i, u_e])))))
    return CheckOutcome(
        bool(max(total, first) < 1e-12 and values < 1e-11),
        f"max |Σ_X Q̃_X| = {total:.1e}, max first-law residual (bare, interaction) = {first:.1e}; Ũ_X, U, Q, W of "
        f"both assignments vs SciPy expm of the global H: {values:.1e}",
    )


def _peak_closed_form():
    delta, big_gamma = 0.5, 1.2
    model = QuadraticReservoirs.from_regime(5, 4, delta, big_gamma, nu2=2.0, g=0.1)
    omega = np.hypot(delta, big_gamma)
    times = np.linspace(0.0, 2 * np.pi / omega, 41)  # peak t_1 = π/Ω at index 20
    out = model.energetics(times)
    u = np.ones(5) / np.sqrt(5)
    height = float(np.real(u @ np.asarray(out.k[20]) @ u)) - (2.0 + delta)
    ok = abs(height - big_gamma**2 / (2 * delta)) < 1e-10 and abs(float(out.peak_times[0]) - np.pi / omega) < 1e-12
    return CheckOutcome(
        ok,
        f"peak at t = {float(out.peak_times[0]):.6f} (π/Ω = {np.pi / omega:.6f}), height {height:.6f} (Γ²/2Δ = "
        f"{big_gamma**2 / (2 * delta):.6f})",
    )


def _quadrature_error_estimate():
    """Two two-level systems exchanging an excitation (g = 0.7, ω_S = 1, ω_E = 0.3, environment in |0⟩): Φ_t is
    amplitude damping with the survival amplitude c(t) of the one-excitation sector, K_S = ε(t)|1⟩⟨1| + const,
    ε = −Im(ċ/c), so Q^md(t) = ⟨1|ρ_S|1⟩ ∫ ε d|c|²/dt, integrated by SciPy's adaptive quad from the closed form."""
    from scipy.integrate import quad

    g, w_s, w_e = 0.7, 1.0, 0.3
    mean, delta = (w_s + w_e) / 2, w_s - w_e
    omega = np.sqrt(delta**2 + 4 * g**2)
    rho_s, rho_e = np.array([[0.3, 0.2], [0.2, 0.7]]), np.diag([1.0, 0.0])

    def rate(t):
        phase = np.exp(-1j * mean * t)
        c = phase * (np.cos(omega * t / 2) - 1j * delta / omega * np.sin(omega * t / 2))
        c_dot = -1j * mean * c + phase * (-omega / 2 * np.sin(omega * t / 2) - 1j * delta / 2 * np.cos(omega * t / 2))
        return -np.imag(c_dot / c) * 2 * np.real(np.conj(c) * c_dot) * rho_s[1, 1]

    sm = np.array([[0.0, 1.0], [0.0, 0.0]])
    model = GlobalModel(np.diag([0.0, w_s]), g * (np.kron(sm.T, sm) + np.kron(sm, sm.T)), np.diag([0.0, w_e]))
    times = np.linspace(0.0, 6.0, 25)
    out = minimal_dissipation(model, rho_s, rho_e, times, order=2)
    reference = [0.0] + [quad(rate, 0.0, t, epsabs=1e-13, epsrel=1e-12, limit=500)[0] for t in times[1:]]
    true = np.abs(np.asarray(out.assignment.heat) - np.array(reference))
    estimate = np.asarray(out.quadrature_error)
    honest = bool(np.all(true <= 1.1 * estimate + 1e-13))
    ratio = float(estimate[-1] / true[-1])
    return CheckOutcome(
        honest and 1.0 <= ratio <= 10.0,
        f"Q^md(6) error {true[-1]:.2e}, estimate {estimate[-1]:.2e} (×{ratio:.2f}); true ≤ 1.1 × estimate at every time: "
        f"{honest}",
    )


CHECKS = [
    Check("canonical K_S of −i[H, ·] is H (trace convention Tr H)", _HCLA, _unitary_generator),
    Check("dissipator with traceless jumps has K_S = 0", _HCLA, _traceless_dissipator),
    Check("jump L + c·1 moves (i/2)(c̄L − cL†) into K_S", _HCLA, _jump_shift),
    Check(
        "Σ_X Q̃_X = 0 and first laws of the bare and interaction assignments",
        "[CVS25], bare and interaction assignments; docs/assignment.md §1–§2",
        _bookkeeping,
    ),
    Check(
        "minimal-dissipation peak of homogeneous reservoirs at t = π/Ω with height Γ²/(2Δ)",
        "[CVS25], minimal-dissipation peaks of homogeneous reservoirs; docs/assignment.md §4–§5",
        _peak_closed_form,
    ),
    Check(
        "embedded quadrature-error estimate of Q^md is honest on a smooth case (SciPy quad of the closed form)",
        "[CB22], minimal-dissipation heat; docs/assignment.md §6",
        _quadrature_error_estimate,
    ),
]
