"""Random test matrices of the verification checks (NumPy, seeded by the caller's generator)."""

from __future__ import annotations

import numpy as np


def random_hermitian(d, rng):
    """A random Hermitian (d, d) matrix."""
    a = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    return (a + a.conj().T) / 2


def random_traceless(d, rng):
    """A random traceless complex (d, d) matrix."""
    a = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    return a - np.trace(a) / d * np.eye(d)


def random_density_matrix(d, rng):
    """A random full-rank (d, d) density matrix ρ = AA†/Tr AA†."""
    a = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    rho = a @ a.conj().T
    return rho / np.trace(rho)
