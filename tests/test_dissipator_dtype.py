"""``lindblad_dissipator`` computes in the state's precision, complex when the state or the jumps are: ρ was
cast to the jumps' dtype, so real jumps (σ₋ as a float array) dropped ρ's imaginary part (D[σ₋]ρ 0.1 off for
ρ01 = 0.2i) and complex64 jumps turned a complex128 state's result complex64. Reference: D[L]ρ = LρL† − ½{L†L, ρ}
in NumPy complex128 with the same operators."""

import numpy as np
import pytest

import jaxthermo as jt

RHO = np.array([[0.6, 0.2j], [-0.2j, 0.4]])
SIGMA_MINUS = np.array([[0.0, 1.0], [0.0, 0.0]])
SIGMA_Z = np.diag([1.0, -1.0])


def _reference(rates, jumps, rho):
    out = np.zeros_like(rho, dtype=np.complex128)
    for g, lop in zip(rates, jumps):
        lop = lop.astype(np.complex128)
        ldl = lop.conj().T @ lop
        out += g * (lop @ rho @ lop.conj().T - 0.5 * (ldl @ rho + rho @ ldl))
    return out


@pytest.mark.parametrize("jump_dtype", [np.float64, np.float32, np.complex64, np.complex128])
def test_state_precision_and_complex_kind(jump_dtype):
    jumps = np.stack([SIGMA_MINUS, SIGMA_Z]).astype(jump_dtype)  # exactly representable in every dtype
    rates = np.array([0.7, 0.3])
    got = np.asarray(jt.lindblad_dissipator(rates, jumps, RHO))
    assert got.dtype == np.complex128
    np.testing.assert_allclose(got, _reference(rates, jumps, RHO), atol=1e-15)


def test_float32_state_keeps_float32():
    """A complex64 state with complex128 jumps: the result in the state's precision (complex64), to float32
    rounding of the float64 reference."""
    jumps = np.stack([SIGMA_MINUS]).astype(np.complex128)
    got = np.asarray(jt.lindblad_dissipator(np.array([1.0]), jumps, RHO.astype(np.complex64)))
    assert got.dtype == np.complex64
    np.testing.assert_allclose(got, _reference([1.0], jumps, RHO), atol=1e-7)
