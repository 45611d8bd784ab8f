"""Classical D_α(p‖q), α ≠ 1, far below ε, near q (docs/information.md §2): log Σ_j p_j^α q_j^{1−α} rounded such
a D_α to 0. Against 80-digit decimal arithmetic for normalised two- and three-level distributions (the reference
function and the ensemble's diagonal-state branch), continuity in relative terms across the α → 1 window, and
gradients against central differences."""

from decimal import Decimal, getcontext

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble._divergences import classical_divergences

ALPHAS = [-3.0, -0.5, 0.01, 0.5, 0.999, 1.0000015, 1.0005, 2.0, 5.0, 50.0]


def _exact(p, q, alpha):
    """D_α of Decimal distributions p, q at 80 digits."""
    getcontext().prec = 80
    a = Decimal(alpha)
    s = sum(pj**a * qj ** (1 - a) for pj, qj in zip(p, q))
    return float((1 if alpha > 0 else -1) * s.ln() / (a - 1))


def _thermal_and_perturbed(beta_g, factor, d=2):
    """Normalised Decimal populations of a d-level ladder (gap g) at βg and the same with its first excited
    level's population multiplied by ``factor`` (the ground state absorbing the difference)."""
    getcontext().prec = 80
    w = [Decimal(-beta_g * k).exp() for k in range(d)]
    z = sum(w)
    q = [x / z for x in w]
    p = list(q)
    p[1] = q[1] * Decimal(factor)
    p[0] = 1 - sum(p[1:])
    return p, q


@pytest.mark.parametrize(
    "beta_g, factor",
    [(b, f) for b in (40.0, 10.0, 0.01) for f in ("2", "1.001", "0.5", "1.3")] + [(40.0, "30"), (10.0, "30")],
)
@pytest.mark.parametrize("d", [2, 3])
def test_small_divergence_relative_to_decimal(beta_g, factor, d):
    """The reference ``renyi_divergence`` and the ensemble's ``classical_divergences`` against 80 digits: within
    1e-10 relative (at βg = 40, D_2 ~ 4e-18: the log of the sum gave 0), above the floor ε² that the log-ratios'
    rounding (~ε each, entering g_α quadratically) leaves (D ≥ 2e-24 here)."""
    p, q = _thermal_and_perturbed(beta_g, factor, d)
    pf, qf = jnp.asarray([float(x) for x in p]), jnp.asarray([float(x) for x in q])
    got = np.asarray([float(jt.renyi_divergence(pf, qf, a)) for a in ALPHAS])
    ensemble_alphas = tuple(a for a in ALPHAS if a > 0)
    got_ensemble = np.asarray(classical_divergences(pf[None], beta_g, 1.0, ensemble_alphas))[0]
    exact = np.asarray([_exact(p, q, a) for a in ALPHAS])
    assert np.all(exact > 0)
    floor = np.finfo(np.float64).eps ** 2
    np.testing.assert_allclose(got, exact, rtol=1e-10, atol=floor)
    np.testing.assert_allclose(got_ensemble, exact[np.asarray(ALPHAS) > 0], rtol=1e-10, atol=floor)


def test_continuous_across_the_window_relative_to_the_value():
    """Cold qubit (βg = 40, p_1 = 2 q_1): just inside (α = 1 ± 5e-7) and just outside (1 ± 2e-6, 1 ± 1e-4) the
    α → 1 window, D_α stays within 1e-3 relative of KL (the change in α moves it by ~|α − 1| βg/2 ≲ 2e-3 at
    1e-4), where outside was 0."""
    p, q = _thermal_and_perturbed(40.0, "2")
    pf, qf = jnp.asarray([float(x) for x in p]), jnp.asarray([float(x) for x in q])
    kl = float(jt.renyi_divergence(pf, qf, 1.0))
    assert kl == pytest.approx(float(sum(pj * (pj / qj).ln() for pj, qj in zip(p, q))), rel=1e-10)
    for a in [1 - 1e-4, 1 - 2e-6, 1 - 5e-7, 1 + 5e-7, 1 + 2e-6, 1 + 1e-4]:
        assert float(jt.renyi_divergence(pf, qf, a)) == pytest.approx(kl, rel=3e-3), a


@pytest.mark.parametrize("alpha", [2.0, 0.5, -0.5, 1.0005, 7.0])
def test_gradient_against_central_differences(alpha):
    """d D_α/dα and d D_α/dp_1 (p = (1 − p_1, p_1), q = (0.61, 0.39), p_1 = 0.4, D ~ 1e-4, on the new branch)
    against central differences of step 1e-5: within 1e-7 relative."""
    q = jnp.asarray([0.61, 0.39])

    def f(a, p1):
        return jt.renyi_divergence(jnp.stack([1 - p1, p1]), q, a)

    grad_a, grad_p = jax.grad(f, argnums=(0, 1))(alpha, 0.4)
    h = 1e-5
    assert float(grad_a) == pytest.approx(float(f(alpha + h, 0.4) - f(alpha - h, 0.4)) / (2 * h), rel=1e-7)
    assert float(grad_p) == pytest.approx(float(f(alpha, 0.4 + h) - f(alpha, 0.4 - h)) / (2 * h), rel=1e-7)
