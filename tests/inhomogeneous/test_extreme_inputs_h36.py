"""Huge but finite parameters of model A are refused, naming them, where the model cannot compute
with them; extreme values it can compute give finite, honest numbers (docs/inhomogeneous.md §1–§3).

Before: ``Gaussian(1e300)`` (also ``Uniform``, ``TwoPoint``, ``Empirical`` with such values) was
accepted with an infinite variance (NumPy's overflow warning only), and an ensemble reported
``var_work = inf``; ``g0 = 1e200`` with ``Gaussian(1e150)`` gave g_r = inf, β = g0 = 1e200 NaN
populations; a float32 run of ``Gaussian(1e39)`` NaN everywhere.
"""

import math
import warnings

import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.inhomogeneous._model import check_representable, reservoir_populations

LARGEST = float(np.finfo(np.float64).max)
LARGEST32 = float(np.finfo(np.float32).max)


@pytest.mark.parametrize("law, name", [(jt.Gaussian, "sigma"), (jt.Uniform, "width"), (jt.TwoPoint, "delta")])
def test_a_spread_whose_square_overflows_is_refused_at_the_exact_bound(law, name):
    bound = math.sqrt(LARGEST)
    below, above = np.nextafter(bound, 0.0), np.nextafter(bound, np.inf)
    with np.errstate(over="ignore"):  # the independent route: NumPy's own square in float64
        assert np.isfinite(np.float64(below) ** 2) and np.isinf(np.float64(above) ** 2)
    assert np.isfinite(float(law(float(below)).variance))
    with pytest.raises(ValueError, match=rf"^{name}=1e\+300: .*overflows float64.*{name} must be at most"):
        law(1e300)
    with pytest.raises(ValueError, match=name):
        law(float(above))


def test_float32_spread_follows_float32():
    bound32 = math.sqrt(LARGEST32)
    ok, bad = np.float32(bound32 / 2), np.float32(bound32 * 2)
    with np.errstate(over="ignore"):
        assert np.isfinite(ok * ok) and np.isinf(bad * bad)  # float32 arithmetic
    assert np.isfinite(float(jt.Gaussian(ok).variance))
    with pytest.raises(ValueError, match="sigma=.*overflows float32"):
        jt.Gaussian(bad)


def test_empirical_samples_whose_squares_overflow_are_refused():
    with pytest.raises(ValueError, match="samples=1e\\+200: .*overflows float64"):
        jt.Empirical(np.array([1e200, 0.0]))
    law = jt.Empirical(np.array([1e150, -1e150]))
    assert float(law.variance) == pytest.approx(1e300, rel=1e-12)


def _model(**kw):
    p = dict(d=2, beta=1.0, g0=1.0, theta=0.1, distribution=jt.Gaussian(0.05))
    p.update(kw)
    return jt.InhomogeneousReservoir(**p)


def test_model_refuses_an_overflowing_reservoir_spacing_or_exponent():
    # g_r = g0 (1 + δ) at δ = 9σ = 9e150 (the quadrature's cut): 9e350 is no float64
    assert math.log10(1e200) + math.log10(1 + 9e150) > math.log10(LARGEST)
    with pytest.raises(ValueError, match=r"g0=1e\+200 with Gaussian sigma .*reservoir spacing"):
        _model(g0=1e200, distribution=jt.Gaussian(1e150))
    with pytest.raises(ValueError, match=r"beta=1e\+300 with Gaussian sigma"):
        _model(beta=1e300, kind="temperature", distribution=jt.Gaussian(1e150))
    # β g0 = 1e400 overflows: the old model's τ(δ) was NaN
    with pytest.raises(ValueError, match=r"beta=1e\+200, g0=1e\+200: the exponent"):
        _model(beta=1e200, g0=1e200, distribution=None)


def test_largest_values_that_fit_give_finite_populations():
    """Just inside the bound the model computes: τ(δ) at the law's extreme δ is finite (NumPy route:
    the Boltzmann weights in logarithms)."""
    g0 = LARGEST / 10 / (1 + 9 * 1.0)  # |g0|(1 + 9σ) = M/10
    m = _model(beta=1e-300, g0=g0, distribution=jt.Gaussian(1.0))
    q = np.asarray(reservoir_populations(m, np.array([9.0, -9.0])))
    x = 1e-300 * g0 * (1 + np.array([9.0, -9.0]))  # β_r g_r
    logw = -np.outer(x, np.arange(2) - 0.5)
    expected = np.exp(logw - logw.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(q, expected, rtol=1e-12)


def test_run_precision_and_n_steps_bound_the_ensemble():
    """A float32 run casts the law: σ = 1e39 gave δ = inf and NaN statistics (the engine's check is
    :func:`check_representable`; the CLI calls it); N E too large gives an infinite variance."""
    m = _model(distribution=jt.Gaussian(1e39))  # fine in float64
    check_representable(m)
    with pytest.raises(ValueError, match="overflows float32"):
        check_representable(m, np.float32)
    big = _model(g0=1e300)
    check_representable(big)  # one collision's energies fit
    with pytest.raises(ValueError, match=r"n_steps=100: the second moment"):
        check_representable(big, None, 100)
    with np.errstate(over="ignore"):
        assert np.isinf((100 * np.float64(1e300) * 1.45) ** 2)  # what the engine's variance would hold
    check_representable(_model(g0=1e100), None, 10**6)  # (1e6 · 1.45e100)² fits


@pytest.mark.parametrize("kind", ["hamiltonian", "temperature"])
def test_delta_below_minus_one_is_computed_honestly(kind):
    """δ < −1 makes g_r ≤ 0 (or β_r ≤ 0): an inverted reservoir qudit, finite work and heat, equal to
    the qubit closed forms of docs/inhomogeneous.md §2 evaluated with NumPy."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, kind=kind)
    rho0 = np.diag([0.6, 0.4]).astype(complex)
    deltas = np.array([-1.0, -2.0, -50.0])
    traj = jt.trajectory(m, rho0, deltas)
    p0, s2 = 0.6, math.sin(0.3) ** 2
    works, heats = [], []
    for d in deltas:
        q0 = 1.0 / (1.0 + math.exp(-(1.0 + d)))  # a = e^{−βg0(1+δ)}, q0 = 1/(1 + a)
        g_r = 1.0 + d if kind == "hamiltonian" else 1.0
        works.append((1.0 - g_r) * s2 * (p0 - q0))  # (g0 − g_r) s² Σ m_j (q_j − p_j), Σ = p0 − q0
        heats.append(g_r * s2 * (p0 - q0))
        p0 = (1 - s2) * p0 + s2 * q0
    np.testing.assert_allclose(np.asarray(traj.work), works, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.asarray(traj.heat), heats, rtol=1e-12, atol=1e-15)


def _exact_unitary_numpy(d, g0, g_r, g_int, theta):
    """exp(−i t_int h) of the Hermitian h = H_S + H_r − g_int S by its eigendecomposition (phases one
    by one: no scaling and squaring)."""
    m = np.arange(d) - (d - 1) / 2
    h = np.diag((g0 * m[:, None] + g_r * m[None, :]).ravel()).astype(complex)
    swap = np.zeros((d * d, d * d))
    for a in range(d):
        for b in range(d):
            swap[b * d + a, a * d + b] = 1.0
    w, v = np.linalg.eigh(h - g_int * swap)
    return (v * np.exp(-1j * (theta / g_int) * w)) @ v.conj().T, np.abs(theta / g_int) * np.max(np.abs(w))


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("kind", ["hamiltonian", "temperature"])
@pytest.mark.parametrize("g_int, delta", [(1.0, 0.05), (1e-2, 0.05), (1e-4, 1e-2), (1e-6, 1e-4), (1e-7, 1e-5)])
def test_exact_unitary_at_weak_coupling_matches_the_eigendecomposition(d, kind, g_int, delta):
    """The whole exponent through JAX's expm was NaN for ‖t_int h‖ ≳ 7·10⁵ (g_int = 1e-7 here). The
    factorised unitary leaves expm only t_int X, of norm θ(|δ|(d − 1)/2/g_int + 1) ≤ 5.1 at these points
    (JAX's expm is accurate to ~ε below its Padé bound 5.37; beyond it, ~1e-8 relative, see the report
    of this change), and is then exact to ~ε‖t_int h‖, the rounding of the phases themselves."""
    m = jt.InhomogeneousReservoir(d, 1.0, 1.0, 0.1, kind=kind, coupling=jt.ExactUnitary(g_int))
    delta = delta / (d - 1)
    assert 0.1 * (abs(delta) * (d - 1) / 2 / g_int + 1) < 5.2
    for dl in (delta, -delta):
        u = np.asarray(m.coupling.unitary(m, np.float64(0.1), np.float64(dl)))
        g_r = 1.0 + dl if kind == "hamiltonian" else 1.0
        ref, scale = _exact_unitary_numpy(d, 1.0, g_r, g_int, 0.1)
        np.testing.assert_allclose(u, ref, rtol=0, atol=200 * np.finfo(float).eps * max(1.0, scale))


def test_exact_unitary_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"theta=0.1, g_int=1e-09 with Gaussian sigma .*exact unitary"):
        jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, coupling=jt.ExactUnitary(1e-9), distribution=jt.Gaussian(0.05))
    with pytest.raises(ValueError, match=r"g_int=1e-320: the interaction time"):
        jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, coupling=jt.ExactUnitary(1e-320))
    # within range, an ensemble-ready model: δ up to 9σ = 0.45, norm 0.1 (0.45/2 + 1e-6)/1e-6 ≈ 2.25e4
    jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, coupling=jt.ExactUnitary(1e-6), distribution=jt.Gaussian(0.05))


def test_exact_unitary_derivative_matches_finite_differences():
    import jax

    rho0 = np.diag([0.7, 0.3]).astype(complex)

    def work(theta):
        m = jt.InhomogeneousReservoir(2, 1.0, 1.0, theta, coupling=jt.ExactUnitary(0.5))
        return jt.trajectory(m, rho0, np.array([0.1, -0.2])).work.sum()

    h = 1e-6
    fd = (float(work(0.3 + h)) - float(work(0.3 - h))) / (2 * h)
    assert float(jax.grad(work)(0.3)) == pytest.approx(fd, rel=1e-7, abs=1e-12)


def test_gaussian_density_at_zero_width_is_the_point_mass():
    """Gaussian(0).pdf was NaN everywhere (0/0), and with it work_density and heat_density; now the
    σ → 0 limit (SciPy's normal density at a vanishing scale) and the same as Uniform(0)."""
    from scipy import stats

    x = np.array([-0.1, 0.0, 1e-3])
    got = np.asarray(jt.Gaussian(0.0).pdf(x))
    with np.errstate(over="ignore"):
        limit = stats.norm(scale=1e-300).pdf(x)
    assert not np.any(np.isnan(got))
    np.testing.assert_array_equal(got[[0, 2]], limit[[0, 2]])  # 0
    assert got[1] == np.inf and limit[1] > 1e299
    np.testing.assert_array_equal(got, np.asarray(jt.Uniform(0.0).pdf(x)))
    m = _model(distribution=jt.Gaussian(0.0))
    rho = np.diag([0.7, 0.3]).astype(complex)
    y = np.array([-1e-3, 0.0, 1e-3])
    for density in (jt.work_density, jt.heat_density):
        a = np.asarray(density(m, rho, y))
        assert not np.any(np.isnan(a))
        np.testing.assert_array_equal(a, np.asarray(density(m, rho, y, distribution=jt.Uniform(0.0))))
