"""Random model-B inputs and an independent NumPy/SciPy reference (no jaxthermo code)."""

from __future__ import annotations

import numpy as np
from scipy.linalg import expm

from tests.helpers import random_hermitian, random_unitary


def random_model_arrays(d_s, d_a, rng, omega=1.0, beta=0.7, lam_fraction=0.5, tau=0.01):
    """An energy-conserving model in rotated bases: H_S, H_A with spacing ω, V in the commutant of
    H_S + H_A with no weight where the ancilla level is unchanged (so Tr_A(V ρ_th) = 0), χ with
    zero diagonal in the H_A eigenbasis, and λ at ``lam_fraction`` of the positivity limit."""
    e_s = omega * np.arange(d_s)
    e_a = omega * np.arange(d_a)
    u_s, u_a = random_unitary(d_s, rng), random_unitary(d_a, rng)
    h_s = u_s @ np.diag(e_s) @ u_s.conj().T
    h_a = u_a @ np.diag(e_a) @ u_a.conj().T
    energy = (e_s[:, None] + e_a[None, :]).ravel()
    anc = np.tile(np.arange(d_a), d_s)
    mask = (np.abs(energy[:, None] - energy[None, :]) < 1e-12) & (anc[:, None] != anc[None, :])
    v0 = np.where(mask, random_hermitian(d_s * d_a, rng), 0.0)
    u = np.kron(u_s, u_a)
    v = u @ v0 @ u.conj().T
    chi0 = random_hermitian(d_a, rng)
    np.fill_diagonal(chi0, 0.0)
    chi = u_a @ chi0 @ u_a.conj().T
    p = np.exp(-beta * e_a)
    p /= p.sum()
    k = np.linalg.eigvalsh(chi0 / np.sqrt(np.outer(p, p)))
    lam = lam_fraction / (np.sqrt(tau) * -k[0])
    return dict(H_S=h_s, H_A=h_a, V=v, beta=beta, chi=chi, lam=lam, tau=tau)


def gibbs(h, beta):
    w = expm(-beta * h)
    return w / np.trace(w)


def ptrace(x, d_s, d_a, keep):
    t = x.reshape(d_s, d_a, d_s, d_a)
    return np.einsum("abcb->ac", t) if keep == 0 else np.einsum("abad->bd", t)


def reference_collision(p, rho):
    """Stroboscopic step with SciPy: returns (ρ_S', ρ_A', X')."""
    d_s, d_a = p["H_S"].shape[0], p["H_A"].shape[0]
    rho_a = gibbs(p["H_A"], p["beta"]) + np.sqrt(p["tau"]) * p["lam"] * p["chi"]
    h0 = np.kron(p["H_S"], np.eye(d_a)) + np.kron(np.eye(d_s), p["H_A"])
    u = expm(-1j * (p["tau"] * h0 + np.sqrt(p["tau"]) * p["V"]))
    x = u @ np.kron(rho, rho_a) @ u.conj().T
    return ptrace(x, d_s, d_a, 0), ptrace(x, d_s, d_a, 1), x


def reference_lindblad(p):
    """(H_eff, jump operators) of the master equation of [WCCM] eqs. (6)–(8) (docs/coherent.md), built independently:
    ``D = Σ_{cb} D[L_cb]`` with ``L_cb = √p_b ⟨c|V|b⟩`` in the eigenbasis of ρ_th."""
    d_s, d_a = p["H_S"].shape[0], p["H_A"].shape[0]
    rho_th = gibbs(p["H_A"], p["beta"])
    w, u = np.linalg.eigh(rho_th)
    vt = np.kron(np.eye(d_s), u.conj().T) @ p["V"] @ np.kron(np.eye(d_s), u)
    blocks = vt.reshape(d_s, d_a, d_s, d_a)
    jumps = [np.sqrt(max(w[b], 0.0)) * blocks[:, c, :, b] for b in range(d_a) for c in range(d_a)]
    g = ptrace(p["V"] @ np.kron(np.eye(d_s), p["chi"]), d_s, d_a, 0)
    return p["H_S"] + p["lam"] * g, jumps


def lindblad_rhs(h, jumps, rho):
    out = -1j * (h @ rho - rho @ h)
    for L in jumps:
        ldl = L.conj().T @ L
        out = out + L @ rho @ L.conj().T - 0.5 * (ldl @ rho + rho @ ldl)
    return out


def numpy_entropy(rho):
    """von Neumann entropy from NumPy's eigenvalues (zero eigenvalues dropped)."""
    w = np.linalg.eigvalsh(rho)
    w = w[w > 1e-300]
    return float(-np.sum(w * np.log(w)))
