"""Many-body reference for the quadratic reservoirs: full Fock space (NumPy/SciPy only).

Fermions: Jordan–Wigner on n modes, |0⟩ empty, |1⟩ occupied, mode 0 the leftmost factor, so the
modes of reservoir 1 (first) form the system factor and those of reservoir 2 the environment.
Bosons: truncated Fock space, exact while the total number of quanta stays below the cutoff.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import expm


def fermion_annihilators(n):
    """Jordan–Wigner c_j (2^n, 2^n), j = 0…n−1."""
    lower = np.array([[0.0, 1.0], [0.0, 0.0]])
    z = np.diag([1.0, -1.0])
    return [_kron_all([z] * j + [lower] + [np.eye(2)] * (n - j - 1)) for j in range(n)]


def boson_annihilators(n, cutoff):
    """Truncated bosonic b_j on (cutoff+1)^n states, j = 0…n−1."""
    b = np.diag(np.sqrt(np.arange(1, cutoff + 1)), 1)
    eye = np.eye(cutoff + 1)
    return [_kron_all([eye] * j + [b] + [eye] * (n - j - 1)) for j in range(n)]


def _kron_all(factors):
    op = factors[0]
    for f in factors[1:]:
        op = np.kron(op, f)
    return op.astype(complex)


def quadratic(matrix, ops):
    """Σ_ij A_ij c_i† c_j."""
    return sum(matrix[i, j] * ops[i].conj().T @ ops[j] for i in range(len(ops)) for j in range(len(ops)))


def gibbs(h, number, beta, mu):
    """exp(−β(H − μN))/Z."""
    x = expm(-beta * (h - mu * number))
    return x / np.trace(x)


def fermionic_global_model(h1, h2, coupling):
    """(H_S, H_I, H_E, annihilators of reservoir 1 in the system factor) for JW fermions."""
    n1, n2 = h1.shape[0], h2.shape[0]
    full = fermion_annihilators(n1 + n2)
    sys_ops = fermion_annihilators(n1)
    env_ops = fermion_annihilators(n2)
    a, b = full[:n1], full[n1:]
    h_i = sum(
        coupling[i, k] * a[i].conj().T @ b[k] + np.conj(coupling[i, k]) * b[k].conj().T @ a[i]
        for i in range(n1)
        for k in range(n2)
    )
    return quadratic(h1, sys_ops), h_i, quadratic(h2, env_ops), sys_ops, env_ops


def correlations(rho, ops):
    """R_nm = ⟨c_m† c_n⟩."""
    n = len(ops)
    return np.array([[np.trace(rho @ ops[m].conj().T @ ops[k]) for m in range(n)] for k in range(n)])
