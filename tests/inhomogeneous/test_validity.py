"""Validity of the fixed partial swap ([ATO-preprint] appendix A1) against SciPy."""

import numpy as np
import pytest
from scipy.linalg import expm

import jaxthermo as jt
from tests.helpers import numpy_swap


def _sz(d):
    return np.diag(np.arange(d) - (d - 1) / 2)


def _reference(d, theta, g_int, delta, g0=1.0, beta=1.0):
    """Independent NumPy/SciPy route: V = e^{i t H0} e^{−i t (H_S + H_r − g_int S)}, Choi states."""
    eye = np.eye(d)
    t = theta / g_int
    h0 = g0 * (np.kron(_sz(d), eye) + np.kron(eye, _sz(d)))
    h = h0 + delta * g0 * np.kron(eye, _sz(d)) - g_int * numpy_swap(d)
    v = expm(1j * t * h0) @ expm(-1j * t * h)
    u = np.cos(theta) * np.eye(d * d) + 1j * np.sin(theta) * numpy_swap(d)
    q = np.exp(-beta * g0 * (1 + delta) * np.diag(_sz(d)))
    tau = np.diag(q / q.sum())

    def choi(w):
        j = np.zeros((d * d, d * d), complex)
        for i in range(d):
            for k in range(d):
                e = np.zeros((d, d))
                e[i, k] = 1
                out = w @ np.kron(e, tau) @ w.conj().T
                red = out.reshape(d, d, d, d).trace(axis1=1, axis2=3)
                j += np.kron(e, red) / d
        return j

    unitary = np.linalg.norm(v - u, 2)
    channel = 0.5 * np.abs(np.linalg.eigvalsh(choi(v) - choi(u))).sum()
    return unitary, channel


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("delta", [0.0, 0.05, -0.2])
def test_partial_swap_error_matches_scipy(d, delta):
    model = jt.InhomogeneousReservoir(d, 1.0, 1.0, 0.7)
    err = jt.partial_swap_error(model, 4.0, delta)
    ref = _reference(d, 0.7, 4.0, delta)
    np.testing.assert_allclose([err.unitary, err.channel], ref, atol=1e-12)
    assert err.channel <= err.unitary + 1e-14
    if delta == 0.0:
        assert err.unitary < 1e-13  # exact at δ = 0 in the interaction picture of H_0


def test_error_scales_with_sigma_over_coupling_and_dimension():
    """Error ∝ δ g0 (d − 1)/(2 g_int) for small ratios: condition σ ≪ 2 g_int/(g0 (d − 1)) (eq. (A6))."""
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.7)
    e1 = float(jt.partial_swap_error(model, 10.0, 0.01).unitary)
    e2 = float(jt.partial_swap_error(model, 10.0, 0.02).unitary)
    e3 = float(jt.partial_swap_error(model, 20.0, 0.02).unitary)
    np.testing.assert_allclose(e2 / e1, 2.0, rtol=1e-2)
    np.testing.assert_allclose(e3 / e2, 0.5, rtol=2e-2)
    errs = [
        float(jt.partial_swap_error(jt.InhomogeneousReservoir(d, 1.0, 1.0, 0.7), 10.0, 0.02).unitary)
        for d in (2, 3, 4, 5)
    ]
    assert np.all(np.diff(errs) > 0)
    ratio = [e / ((d - 1) / 2) for e, d in zip(errs, (2, 3, 4, 5))]
    assert max(ratio) / min(ratio) < 2.0  # (d − 1) captures the d-dependence to a factor < 2


def test_mean_error_over_a_distribution_grows_with_sigma():
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.7)
    errs = [
        float(jt.inhomogeneous.mean_partial_swap_error(model, 5.0, jt.Gaussian(s)).unitary) for s in (0.01, 0.05, 0.2)
    ]
    assert np.all(np.diff(errs) > 0)
    # E|δ| scaling at small σ: ratio of means ≈ ratio of σ
    np.testing.assert_allclose(errs[1] / errs[0], 5.0, rtol=0.01)
