"""Single-collision work and heat statistics for qubits: analytic densities vs exact
Monte-Carlo histograms, support bounds, and the two misprints (docs/misprints.md) that concern them."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

import jaxthermo as jt
from jaxthermo.inhomogeneous import population_derivatives, quadratic_coefficients

A = np.exp(-1.0)
P0S = [1.0, 1 / (1 + A), 0.5, A / (1 + A)]
KEY = jax.random.PRNGKey(11)
N_SAMPLES = 200_000


def _model(kind="hamiltonian", sigma=0.02, theta=0.1):
    return jt.InhomogeneousReservoir(2, 1.0, 1.0, theta, kind=kind, distribution=jt.Gaussian(sigma))


def _rho(p0):
    return jnp.diag(jnp.array([p0, 1 - p0]))


def _bin_probabilities(density, edges, lo, hi):
    """∫ density over each bin (QUADPACK handles the 1/√ edge singularity), bins clipped to [lo, hi]."""
    out = []
    for a, b in zip(edges[:-1], edges[1:]):
        a, b = max(a, lo), min(b, hi)
        out.append(integrate.quad(lambda y: float(density(y)), a, b, limit=200)[0] if b > a else 0.0)
    return np.array(out)


def _chi2(samples, density, support, n_bins=30):
    lo, hi = (float(x) for x in support)
    q_lo, q_hi = np.quantile(samples, [0.002, 0.998])
    inner = np.linspace(max(q_lo, lo), min(q_hi, hi), n_bins + 1)
    edges = np.concatenate([[-np.inf], inner, [np.inf]])
    lo_i = lo if np.isfinite(lo) else inner[0] - 20 * (inner[-1] - inner[0])
    hi_i = hi if np.isfinite(hi) else inner[-1] + 20 * (inner[-1] - inner[0])
    prob = _bin_probabilities(density, edges, lo_i, hi_i)
    counts, _ = np.histogram(samples, bins=edges)
    expected = samples.size * prob
    keep = expected > 5
    chi2 = float(np.sum((counts[keep] - expected[keep]) ** 2 / expected[keep]))
    dof = int(keep.sum()) - 1
    return chi2, dof, float(prob.sum())


def _y(model, e, quantity):
    return np.asarray(getattr(e, quantity)) / (float(model.g0) * np.sin(float(model.theta)) ** 2)


@pytest.mark.parametrize("p0", P0S)
def test_work_density_matches_exact_monte_carlo(p0):
    """σ = 0.02 (seed Fig. 1): χ² of the exact-MC histogram against G_W within 5 of its standard deviations."""
    model, rho = _model(), _rho(p0)
    _, e = jt.single_collision_samples(model, rho, KEY, N_SAMPLES)
    dens = jax.jit(lambda y: jt.work_density(model, rho, y))
    chi2, dof, total = _chi2(_y(model, e, "work"), dens, jt.work_support(model, rho))
    assert abs(total - 1) < 1e-5
    assert chi2 < dof + 5 * np.sqrt(2 * dof)


@pytest.mark.parametrize("kind", ["hamiltonian", "temperature"])
@pytest.mark.parametrize("p0", [1.0, 0.5, 0.0])
def test_heat_densities_match_exact_monte_carlo(kind, p0):
    model, rho = _model(kind), _rho(p0)
    _, e = jt.single_collision_samples(model, rho, KEY, N_SAMPLES)
    dens = jax.jit(lambda y: jt.heat_density(model, rho, y))
    chi2, dof, total = _chi2(_y(model, e, "heat"), dens, jt.heat_support(model, rho))
    assert abs(total - 1) < 1e-5
    assert chi2 < dof + 5 * np.sqrt(2 * dof)


def test_misprinted_discriminant_fails():
    """A misprint (docs/misprints.md): [ATO19] prints D = q0'² + 4y(q0 − p0); with it G_W is not even normalised
    and its histogram χ² is off by far more than 20 standard deviations."""
    model, rho = _model(), _rho(0.5)
    a, b, _ = quadratic_coefficients(model, rho, "work")
    correct = jax.jit(lambda y: jt.work_density(model, rho, y))

    def misprint(y):
        d_ok = b**2 + 4 * a * y
        d_bad = a**2 + 4 * y * b
        return correct(y) * jnp.sqrt(jnp.abs(d_ok)) / jnp.sqrt(jnp.abs(d_bad))

    misprint = jax.jit(misprint)
    lo, _ = jt.work_support(model, rho)
    hi = 0.05  # > 10 σ of y
    norm_ok = integrate.quad(lambda y: float(correct(y)), float(lo), hi, limit=200)[0]
    norm_bad = integrate.quad(lambda y: float(misprint(y)), float(lo), hi, limit=200)[0]
    assert abs(norm_ok - 1) < 1e-6
    assert abs(norm_bad - 1) > 0.1  # 18 % off: 1e5 times the quadrature error of the correct form
    _, e = jt.single_collision_samples(model, rho, KEY, N_SAMPLES)
    y = _y(model, e, "work")
    chi2_ok, dof, _ = _chi2(y, correct, (lo, np.inf))
    chi2_bad, dof_bad, _ = _chi2(y, misprint, (lo, np.inf))  # as printed
    chi2_renorm, dof_renorm, _ = _chi2(y, lambda t: misprint(t) / norm_bad, (lo, np.inf))
    assert chi2_ok < dof + 5 * np.sqrt(2 * dof)
    assert chi2_bad > dof_bad + 20 * np.sqrt(2 * dof_bad)
    assert chi2_renorm > dof_renorm + 8 * np.sqrt(2 * dof_renorm)  # even renormalised, the shape is wrong


def test_half_in_second_order_term_of_heat_density():
    """A misprint (docs/misprints.md), for the densities: [ATO19] eq. (30) writes q0''δ² for ½q0''δ². At σ = 0.1 the
    exact-MC histogram accepts the ½ and rejects the misprint by more than 20 standard deviations."""
    model, rho = _model("temperature", sigma=0.1), _rho(0.75)
    _, e = jt.single_collision_samples(model, rho, KEY, 1_000_000)
    y = _y(model, e, "heat")
    coeffs = quadratic_coefficients(model, rho, "heat")
    _, ddq = population_derivatives(model)
    np.testing.assert_allclose(coeffs.a, -0.5 * ddq[0], rtol=1e-14)
    pdf = model.distribution.pdf
    correct = jax.jit(lambda t: jt.inhomogeneous.quadratic_density(coeffs, pdf, t))
    bad = coeffs._replace(a=2 * coeffs.a)
    wrong = jax.jit(lambda t: jt.inhomogeneous.quadratic_density(bad, pdf, t))
    chi2_ok, dof, _ = _chi2(y, correct, jt.inhomogeneous.quadratic_support(coeffs), n_bins=40)
    chi2_bad, dof_b, _ = _chi2(y, wrong, jt.inhomogeneous.quadratic_support(bad), n_bins=40)
    assert chi2_ok < dof + 5 * np.sqrt(2 * dof)
    assert chi2_bad > dof_b + 20 * np.sqrt(2 * dof_b)


def test_work_support_bound_and_narrowest_at_thermal_state():
    """W ≥ −sin²θ (p0 a − p1)²/(4βa) ([ATO-preprint] eq. (B7)); the distribution is narrowest for p0 = 1/(1+a)."""
    model = _model(sigma=0.05)
    s2 = np.sin(0.1) ** 2
    spreads = []
    for p0 in P0S:
        rho = _rho(p0)
        y_min = float(jt.work_support(model, rho)[0])
        np.testing.assert_allclose(y_min * s2, -s2 * (p0 * A - (1 - p0)) ** 2 / (4 * A), rtol=1e-12, atol=1e-18)
        _, e = jt.single_collision_samples(model, rho, KEY, 50_000)
        y = _y(model, e, "work")
        assert y.min() >= y_min - 1e-3 * abs(y).max()  # exact W obeys it up to the O(δ³) term
        spreads.append(np.std(y))
    assert int(np.argmin(spreads)) == 1
    # the 1/√y divergence at W = 0 for the thermal state
    dens = jt.work_density(model, _rho(1 / (1 + A)), jnp.array([1e-8, 1e-6]))
    np.testing.assert_allclose(dens[0] / dens[1], 10.0, rtol=1e-2)


def test_densities_reject_qudits_and_workless_kind():
    with pytest.raises(ValueError, match="d = 2"):
        jt.work_density(jt.InhomogeneousReservoir(3, 1.0, 1.0, 0.1, distribution=jt.Gaussian(0.1)), jnp.eye(3) / 3, 0.0)
    with pytest.raises(ValueError, match="no work"):
        jt.work_density(_model("temperature"), _rho(0.5), 0.0)


def test_histogram_normalisation_and_standard_errors():
    model, rho = _model(sigma=0.05), _rho(0.5)
    hist = jt.single_collision_histogram(model, rho, KEY, 50_000, "heat", bins=40)
    widths = np.diff(hist.edges)
    np.testing.assert_allclose(np.sum(hist.density * widths), 1.0, rtol=1e-12)  # range = sample range
    counts = hist.density * widths * 50_000
    np.testing.assert_allclose(hist.stderr, np.sqrt(counts * (1 - counts / 50_000)) / 50_000 / widths, rtol=1e-12)
    # d = 3 works too (no analytic density there), and the first law holds sample by sample
    q3 = jt.InhomogeneousReservoir(3, 1.0, 1.0, 0.1, distribution=jt.Gaussian(0.05))
    _, e = jt.single_collision_samples(q3, jnp.eye(3) / 3, KEY, 1000)
    np.testing.assert_allclose(e.work + e.heat, e.energy_change, atol=1e-15)


def _exact_y(delta, x, p0, quantity, kind):
    """y(δ) of one qubit collision from its closed form (docs/inhomogeneous.md §6 table), q_0 = 1/(1 + e^{−x(1+δ)})
    for both kinds, x = βg0."""
    q0 = 1 / (1 + np.exp(-x * (1 + delta)))
    if quantity == "work":
        return delta * (q0 - p0)
    return (1 + delta) * (p0 - q0) if kind == "hamiltonian" else p0 - q0


@pytest.mark.parametrize(
    "quantity, kind, p0", [("work", "hamiltonian", 0.6), ("heat", "hamiltonian", 0.95), ("heat", "temperature", 0.3)]
)
def test_expansion_error_is_the_wasserstein_distance_of_independent_draws(quantity, kind, p0):
    """ε against W₁ of 10⁶ other draws of δ (NumPy's generator; y from its closed form) over std y."""
    from jaxthermo.inhomogeneous import expansion_error

    beta, g0, sigma = 2.0, 0.7, 0.25
    model = jt.InhomogeneousReservoir(2, beta, g0, 0.6, kind=kind, distribution=jt.Gaussian(sigma))
    delta = np.random.default_rng(5).normal(0.0, sigma, 1_000_000)
    y = _exact_y(delta, beta * g0, p0, quantity, kind)
    a, b, c = (float(x) for x in quadratic_coefficients(model, _rho(p0), quantity))
    expected = np.mean(np.abs(np.sort(y) - np.sort(a * delta**2 + b * delta + c))) / np.std(y)
    np.testing.assert_allclose(expansion_error(model, _rho(p0), quantity), expected, rtol=0.03, atol=3e-4)


@pytest.mark.parametrize("sigma, warns", [(0.1, False), (0.25, True)])
def test_densities_warn_where_they_are_off(sigma, warns):
    """The warning was βg0·√⟨δ²⟩ > 0.5: at βg0σ = 0.35 (β = 2, g0 = 0.7, p0 = 0.6) G_W was 45 % off next to its
    edge without a word. Here it warns where the bin probabilities of the exact law (4·10⁵ draws, 30 bins between
    its 5 % and 95 % quantiles) are more than 20 % off somewhere, and is silent where all are within 5 %."""
    import warnings

    model, rho = jt.InhomogeneousReservoir(2, 2.0, 0.7, 0.6, distribution=jt.Gaussian(sigma)), _rho(0.6)
    y = _exact_y(np.random.default_rng(9).normal(0.0, sigma, 400_000), 1.4, 0.6, "work", "hamiltonian")
    edges = np.linspace(*np.quantile(y, [0.05, 0.95]), 31)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        jt.work_density(model, rho, jnp.asarray(edges))
    messages = [str(w.message) for w in caught if "outside its validity" in str(w.message)]
    assert bool(messages) == warns, messages
    assert all(w.filename == __file__ for w in caught if "outside its validity" in str(w.message))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # said above; the jitted density closes over the model: checked at tracing
        dens = jax.jit(lambda t: jt.work_density(model, rho, t))
        dens(edges[0])
    lower = float(jt.work_support(model, rho).lower)
    probability = _bin_probabilities(dens, edges, lower, np.inf)
    off = np.max(np.abs(probability / (np.histogram(y, edges)[0] / y.size) - 1))
    assert off > 0.2 if warns else off < 0.05, off


def test_density_warning_inside_jit_with_constant_parameters():
    """Concrete model and ρ closed over by a jitted function: the check runs at trace time (it failed with
    ConcretizationTypeError: float() of a staged constant)."""
    model, rho = jt.InhomogeneousReservoir(2, 2.0, 0.7, 0.6, distribution=jt.Gaussian(0.25)), _rho(0.6)
    with pytest.warns(UserWarning, match="outside its validity"):
        value = jax.jit(lambda t: jt.work_density(model, rho, t))(0.01)
    with pytest.warns(UserWarning, match="outside its validity"):
        np.testing.assert_allclose(value, jt.work_density(model, rho, 0.01), rtol=1e-12)
