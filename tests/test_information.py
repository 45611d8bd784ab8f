"""Information measures (docs/information.md) against definitions, QuTiP, and their defining properties."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import qutip
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import fractional_matrix_power, logm

import jaxthermo as jt
from jaxthermo._information import divergences_to_thermal, log_thermal_populations
from tests.helpers import apply_channel, numpy_divergence_to_diagonal, random_channel, random_state, random_stochastic

# ---------------------------------------------------------------------------------------------
# classical Rényi divergences


def _renyi_reference(p, q, alpha):
    """Direct evaluation of sgn(α)/(α−1) log Σ p^α q^{1−α} with mpmath-free NumPy (small α)."""
    return np.sign(alpha) / (alpha - 1) * np.log(np.sum(p**alpha * q ** (1 - alpha)))


@pytest.mark.parametrize("alpha", [-3.0, -0.5, 0.3, 0.5, 2.0, 3.0, 7.5])
def test_renyi_matches_definition(alpha):
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(4))
    np.testing.assert_allclose(jt.renyi_divergence(p, q, alpha), _renyi_reference(p, q, alpha), rtol=1e-12)


def test_renyi_limits():
    rng = np.random.default_rng(1)
    p, q = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
    kl = np.sum(p * np.log(p / q))
    np.testing.assert_allclose(jt.renyi_divergence(p, q, 1.0), kl, rtol=1e-13)
    # continuity at α = 1 from both sides, inside and outside the series window
    for eps in [1e-9, 1e-7, 1e-5, 1e-3]:
        for a in (1 - eps, 1 + eps):
            slope = 0.5 * (np.sum(p * np.log(p / q) ** 2) - kl**2)  # dD/dα at 1
            np.testing.assert_allclose(jt.renyi_divergence(p, q, a), kl + (a - 1) * slope, atol=5 * eps**2 + 1e-11)
    np.testing.assert_allclose(jt.renyi_divergence(p, q, 0.0), -np.log(np.sum(q[p > 0])), atol=1e-15)
    np.testing.assert_allclose(jt.renyi_divergence(p, q, np.inf), np.log(np.max(p / q)), rtol=1e-13)
    np.testing.assert_allclose(jt.renyi_divergence(p, q, -np.inf), np.log(np.max(q / p)), rtol=1e-13)
    # large |α| in log space: no overflow, and the ∞ limits are approached as bounded by
    # L + log(p_min)/(α−1) <= D_α <= L  (α → +∞)  and  |D_α − L'| <= (L' + |log q_min|)/(|α|+1)  (α → −∞)
    big = np.log(np.max(p / q))
    for a in [1e3, 1e5]:
        d_a = float(jt.renyi_divergence(p, q, a))
        assert np.isfinite(d_a)
        assert big + np.log(p.min()) / (a - 1) - 1e-12 <= d_a <= big + 1e-12
    small = np.log(np.max(q / p))
    for a in [-1e3, -1e4]:
        d_a = float(jt.renyi_divergence(p, q, a))
        assert abs(d_a - small) <= (small + abs(np.log(q.min()))) / (abs(a) + 1)


def test_renyi_support_rules():
    p = jnp.array([0.6, 0.4, 0.0])
    q = jnp.array([0.2, 0.3, 0.5])
    assert jt.renyi_divergence(p, q, -1.0) == jnp.inf  # α < 0 and p_j = 0 < q_j
    assert jnp.isfinite(jt.renyi_divergence(p, q, 2.0))
    np.testing.assert_allclose(jt.renyi_divergence(p, q, 0.0), -np.log(0.5))
    assert jt.renyi_divergence(q, p, 1.0) == jnp.inf  # KL with q_j > 0 = p_j
    assert jt.renyi_divergence(q, p, 3.0) == jnp.inf
    assert not jnp.any(jnp.isnan(jt.renyi_divergence(q, p, jnp.array([0.0, 0.5, 1.0, 2.0, jnp.inf]))))


@pytest.mark.parametrize("alpha", [-2.0, -0.5, 0.3, 0.5, 0.9])
def test_renyi_with_weight_of_p_where_q_vanishes(alpha):
    """α < 1, p_j > 0 = q_j: the term p_j^α q_j^{1−α} is 0 (1 − α > 0), so D_α = sgn α/(α−1) log Σ_{q_j>0} p_j^α q_j^{1−α}
    (NumPy, 0^{1−α} = 0), ≥ 0, and equal to the Petz and sandwiched divergences of the diagonal states. It took
    q_j as 1 there: D_½((½, ½)‖(1, 0)) = −log 2 < 0 instead of log 2; finite gradients."""
    p, q = np.array([0.5, 0.3, 0.2]), np.array([0.6, 0.4, 0.0])
    ref = _renyi_reference(p, q, alpha)
    assert ref > 0
    np.testing.assert_allclose(jt.renyi_divergence(p, q, alpha), ref, rtol=1e-12)
    if alpha > 0:
        np.testing.assert_allclose(jt.petz_renyi_divergence(np.diag(p), np.diag(q), alpha), ref, rtol=1e-12)
    if alpha >= 0.5:
        np.testing.assert_allclose(jt.sandwiched_renyi_divergence(np.diag(p), np.diag(q), alpha), ref, rtol=1e-12)
    np.testing.assert_allclose(
        jt.renyi_divergence(np.array([0.5, 0.5]), np.array([1.0, 0.0]), 0.5), np.log(2.0), rtol=1e-14
    )
    grad = jax.grad(lambda x: jt.renyi_divergence(x, jnp.asarray(q), alpha))(jnp.asarray(p))
    assert np.all(np.isfinite(np.asarray(grad)))


def test_renyi_vectorised_alpha_and_batch():
    rng = np.random.default_rng(2)
    p, q = rng.dirichlet(np.ones(3), size=4), rng.dirichlet(np.ones(3), size=4)
    alphas = jnp.array([0.0, 0.5, 1.0, 2.0, jnp.inf])
    vals = jt.renyi_divergence(p[:, None], q[:, None], alphas)
    assert vals.shape == (4, 5)
    for i in range(4):
        for k, a in enumerate(alphas):
            np.testing.assert_allclose(vals[i, k], jt.renyi_divergence(p[i], q[i], float(a)), rtol=1e-13)
    jit_vals = jax.jit(jax.vmap(jt.renyi_divergence, (0, 0, None)))(p, q, 2.0)
    np.testing.assert_allclose(jit_vals, vals[:, 3], rtol=1e-13)


probabilities = st.integers(2, 5).flatmap(
    lambda d: st.tuples(
        st.lists(st.floats(0.01, 1.0), min_size=d, max_size=d),
        st.lists(st.floats(0.01, 1.0), min_size=d, max_size=d),
        st.integers(0, 2**31 - 1),
    )
)


def _normalise(x):
    x = np.asarray(x)
    return x / x.sum()


@settings(max_examples=60, deadline=None)
@given(probabilities, st.sampled_from([-2.0, 0.0, 0.5, 1.0, 2.0, 10.0, np.inf]))
def test_renyi_nonnegative_and_zero_iff_equal(pq, alpha):
    p, q, _ = pq
    p, q = _normalise(p), _normalise(q)
    d = float(jt.renyi_divergence(p, q, alpha))
    assert d >= -1e-12
    assert abs(float(jt.renyi_divergence(p, p, alpha))) < 1e-12
    if alpha != 0.0 and np.max(np.abs(p - q)) > 1e-3:  # D_0 vanishes for any full-support p
        assert d > 0


@settings(max_examples=60, deadline=None)
@given(probabilities, st.sampled_from([0.0, 0.3, 0.5, 1.0, 1.5, 2.0, 5.0, np.inf]))
def test_renyi_data_processing(pq, alpha):
    p, q, seed = pq
    p, q = _normalise(p), _normalise(q)
    t = random_stochastic(len(p), 3, np.random.default_rng(seed))
    assert float(jt.renyi_divergence(t @ p, t @ q, alpha)) <= float(jt.renyi_divergence(p, q, alpha)) + 1e-12


@settings(max_examples=40, deadline=None)
@given(probabilities, probabilities, st.sampled_from([-1.5, 0.0, 0.5, 1.0, 2.0, 4.0, np.inf, -np.inf]))
def test_renyi_additive_on_products(pq1, pq2, alpha):
    p1, q1 = _normalise(pq1[0]), _normalise(pq1[1])
    p2, q2 = _normalise(pq2[0]), _normalise(pq2[1])
    joint = float(jt.renyi_divergence(np.kron(p1, p2), np.kron(q1, q2), alpha))
    parts = float(jt.renyi_divergence(p1, q1, alpha)) + float(jt.renyi_divergence(p2, q2, alpha))
    np.testing.assert_allclose(joint, parts, rtol=1e-10, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(probabilities)
def test_renyi_monotone_in_alpha(pq):
    p, q = _normalise(pq[0]), _normalise(pq[1])
    alphas = jnp.array([0.0, 0.1, 0.5, 0.9, 1.0, 1.1, 2.0, 5.0, 50.0, jnp.inf])
    vals = np.asarray(jt.renyi_divergence(p, q, alphas))
    assert np.all(np.diff(vals) >= -1e-12)


def test_free_energy_definition():
    # F_α = (D_α(p‖τ) − log Z)/β; for α = 1 it is ⟨H⟩ − S/β
    beta, g = 0.7, 1.3
    p = jnp.array([0.2, 0.5, 0.3])
    h = g * np.asarray(jt.spin_z(3)).diagonal()
    f1 = float(jt.free_energy(p, beta, g, 1.0))
    np.testing.assert_allclose(f1, np.sum(p * h) - float(jt.shannon_entropy(p)) / beta, rtol=1e-13)
    tau = jt.thermal_populations(3, beta, g)
    for a in [0.0, 2.0, jnp.inf]:
        np.testing.assert_allclose(
            jt.free_energy(tau, beta, g, a), -float(jt.log_partition_function(3, beta, g)) / beta, rtol=1e-12
        )


# ---------------------------------------------------------------------------------------------
# quantum measures


@pytest.mark.parametrize("d", [2, 3, 4])
def test_entropies_match_qutip(d):
    rng = np.random.default_rng(d)
    rho, sigma = random_state(d, rng), random_state(d, rng)
    qr, qs = qutip.Qobj(rho), qutip.Qobj(sigma)
    np.testing.assert_allclose(jt.von_neumann_entropy(rho), qutip.entropy_vn(qr), rtol=1e-12)
    np.testing.assert_allclose(jt.relative_entropy(rho, sigma), qutip.entropy_relative(qr, qs), rtol=1e-10)
    np.testing.assert_allclose(jt.trace_distance(rho, sigma), qutip.tracedist(qr, qs), rtol=1e-12)
    ab = random_state(d * 2, rng)
    qab = qutip.Qobj(ab, dims=[[d, 2], [d, 2]])
    np.testing.assert_allclose(jt.mutual_information(ab, (d, 2)), qutip.entropy_mutual(qab, 0, 1), rtol=1e-10)


def test_relative_entropy_support_and_rank_deficiency():
    pure = np.diag([1.0, 0.0, 0.0]).astype(complex)
    mixed = random_state(3, np.random.default_rng(0))
    assert float(jt.relative_entropy(mixed, pure)) == np.inf
    val = float(jt.relative_entropy(pure, mixed))
    np.testing.assert_allclose(val, -np.log(mixed[0, 0].real) if False else -np.real(logm(mixed)[0, 0]), rtol=1e-10)
    assert float(jt.relative_entropy(pure, pure)) == 0.0
    rank2 = random_state(3, np.random.default_rng(1), rank=2)
    assert np.isfinite(float(jt.relative_entropy(rank2, rank2)))
    assert abs(float(jt.relative_entropy(rank2, rank2))) < 1e-10


@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.9, 1.5, 2.0])
def test_petz_matches_matrix_powers_and_classical(alpha):
    rng = np.random.default_rng(5)
    rho, sigma = random_state(3, rng), random_state(3, rng)
    if alpha == 0.0:  # −log Tr(Π_ρ σ) with Π_ρ the support projector of a rank-2 ρ
        rho = random_state(3, rng, rank=2)
        w, v = np.linalg.eigh(rho)
        proj = v[:, w > 1e-12] @ v[:, w > 1e-12].conj().T
        ref = -np.log(np.trace(proj @ sigma).real)
    else:
        ref = np.log(np.trace(fractional_matrix_power(rho, alpha) @ fractional_matrix_power(sigma, 1 - alpha)).real) / (
            alpha - 1
        )
    np.testing.assert_allclose(jt.petz_renyi_divergence(rho, sigma, alpha), ref, rtol=1e-9)
    p, q = rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(3))
    np.testing.assert_allclose(
        jt.petz_renyi_divergence(np.diag(p), np.diag(q), alpha), jt.renyi_divergence(p, q, alpha), rtol=1e-10
    )


@pytest.mark.parametrize("alpha", [0.5, 0.8, 2.0, 3.0, np.inf])
def test_sandwiched_matches_definition_and_classical(alpha):
    rng = np.random.default_rng(6)
    rho, sigma = random_state(3, rng), random_state(3, rng)
    if np.isinf(alpha):
        s = fractional_matrix_power(sigma, -0.5)
        ref = np.log(np.max(np.linalg.eigvalsh(s @ rho @ s)))
    else:
        s = fractional_matrix_power(sigma, (1 - alpha) / (2 * alpha))
        ref = np.log(np.trace(fractional_matrix_power(s @ rho @ s, alpha)).real) / (alpha - 1)
    np.testing.assert_allclose(jt.sandwiched_renyi_divergence(rho, sigma, alpha), ref, rtol=1e-9)
    p, q = rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(3))
    np.testing.assert_allclose(
        jt.sandwiched_renyi_divergence(np.diag(p), np.diag(q), alpha), jt.renyi_divergence(p, q, alpha), rtol=1e-10
    )
    if alpha > 1:  # Araki–Lieb–Thirring: sandwiched ≤ Petz
        if not np.isinf(alpha):
            assert (
                float(jt.sandwiched_renyi_divergence(rho, sigma, alpha))
                <= float(jt.petz_renyi_divergence(rho, sigma, alpha)) + 1e-12
            )


@pytest.mark.parametrize("seed", range(6))
def test_quantum_data_processing(seed):
    rng = np.random.default_rng(seed)
    rho, sigma = random_state(3, rng), random_state(3, rng)
    kraus = random_channel(3, 2, rng)
    r2, s2 = apply_channel(kraus, rho), apply_channel(kraus, sigma)
    for a in [0.0, 0.5, 1.0, 1.5, 2.0]:
        assert float(jt.petz_renyi_divergence(r2, s2, a)) <= float(jt.petz_renyi_divergence(rho, sigma, a)) + 1e-10
    for a in [0.5, 1.0, 2.0, 5.0, np.inf]:
        assert (
            float(jt.sandwiched_renyi_divergence(r2, s2, a))
            <= float(jt.sandwiched_renyi_divergence(rho, sigma, a)) + 1e-10
        )
    assert float(jt.trace_distance(r2, s2)) <= float(jt.trace_distance(rho, sigma)) + 1e-12


def test_coherence_is_relative_entropy_to_dephased_state():
    rng = np.random.default_rng(7)
    for d in (2, 3, 4):
        rho = random_state(d, rng)
        np.testing.assert_allclose(jt.coherence(rho), jt.relative_entropy(rho, np.diag(np.diag(rho))), rtol=1e-10)
    plus = np.full((2, 2), 0.5)
    np.testing.assert_allclose(jt.coherence(plus), np.log(2), rtol=1e-13)
    assert abs(float(jt.coherence(np.diag([0.3, 0.7])))) < 1e-14


def test_batched_inputs():
    rng = np.random.default_rng(8)
    rhos = np.stack([random_state(3, rng) for _ in range(5)])
    sigmas = np.stack([random_state(3, rng) for _ in range(5)])
    for fn in (
        jt.relative_entropy,
        jt.trace_distance,
        lambda r, s: jt.sandwiched_renyi_divergence(r, s, 2.0),
        lambda r, s: jt.petz_renyi_divergence(r, s, 0.5),
    ):
        batched = fn(rhos, sigmas)
        assert batched.shape == (5,)
        np.testing.assert_allclose(batched, [fn(r, s) for r, s in zip(rhos, sigmas)], rtol=1e-12)
    np.testing.assert_allclose(jax.vmap(jt.von_neumann_entropy)(rhos), jt.von_neumann_entropy(rhos), rtol=1e-13)
    assert jt.coherence(rhos).shape == (5,)


# ---------------------------------------------------------------------------------------------
# gradients


DEGENERATE = {
    "maximally mixed": np.eye(3) / 3,
    "thermal": np.asarray(jt.thermal_state(3, 1.0, 1.0)),
    "pure": np.diag([1.0, 0.0, 0.0]),
    "degenerate thermal pair": np.diag([0.4, 0.4, 0.2]),
}


@pytest.mark.parametrize("name", list(DEGENERATE))
def test_gradients_finite_on_degenerate_spectra(name):
    rho = jnp.asarray(DEGENERATE[name], dtype=jnp.complex128)
    sigma = jnp.asarray(np.eye(3) / 3, dtype=jnp.complex128)
    tau = jnp.asarray(jt.thermal_state(3, 1.0, 1.0), dtype=jnp.complex128)
    fns = {
        "S": lambda r: jt.von_neumann_entropy(r),
        "S(r||mm)": lambda r: jt.relative_entropy(r, sigma),
        "S(tau||r as sigma)": lambda s: jt.relative_entropy(tau, s) if name != "pure" else jt.relative_entropy(s, tau),
        "petz0.5": lambda r: jt.petz_renyi_divergence(r, tau, 0.5),
        "sandwiched2": lambda r: jt.sandwiched_renyi_divergence(r, sigma, 2.0),
        "coherence": lambda r: jt.coherence(r),
        "mutual": lambda r: jt.mutual_information(jt.tensor(r, tau), (3, 3)),
    }
    for label, fn in fns.items():
        g = jax.grad(lambda x: jnp.real(fn(x)))(rho)
        assert np.all(np.isfinite(np.asarray(g))), f"{label} gradient not finite at {name}"


def _path(t, rho0, rho1):
    return (1 - t) * rho0 + t * rho1


@pytest.mark.parametrize("fn_name", ["relative_entropy", "sandwiched", "petz", "entropy", "coherence"])
@pytest.mark.parametrize("start", ["maximally mixed", "thermal", "random"])
def test_gradients_match_finite_differences(fn_name, start):
    rng = np.random.default_rng(9)
    rho1 = random_state(3, rng)
    rho0 = random_state(3, rng) if start == "random" else DEGENERATE[start].astype(complex)
    sigma = random_state(3, rng)
    fn = {
        "relative_entropy": lambda r: jt.relative_entropy(r, sigma) + jt.relative_entropy(sigma, r),
        "sandwiched": lambda r: jt.sandwiched_renyi_divergence(r, sigma, 2.0),
        "petz": lambda r: jt.petz_renyi_divergence(sigma, r, 0.5),
        "entropy": jt.von_neumann_entropy,
        "coherence": jt.coherence,
    }[fn_name]
    f = lambda t: jnp.real(fn(_path(t, jnp.asarray(rho0), jnp.asarray(rho1))))
    t0, h = 0.3, 1e-5
    fd = (f(t0 + h) - f(t0 - h)) / (2 * h)
    np.testing.assert_allclose(jax.grad(f)(t0), fd, rtol=1e-6, atol=1e-8)
    # also at the degenerate end point itself (one-sided FD, first order)
    if start != "random":
        fd0 = (f(2e-6) - f(0.0)) / 2e-6
        np.testing.assert_allclose(jax.grad(f)(0.0), fd0, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("alpha", [-np.inf, -3.0, -0.5, 0.0, 0.5, 1.0, 1.0 + 1e-8, 2.0, 7.0, np.inf])
def test_renyi_gradients_are_finite_and_match_finite_differences(alpha):
    p0, q = jnp.array([0.3, 0.7]), jnp.array([0.6, 0.4])
    grad = jax.grad(lambda p: jt.renyi_divergence(p, q, alpha))(p0)
    eps = 1e-6
    f = jax.jit(lambda p: jt.renyi_divergence(p, q, alpha))  # traced: off-simplex points are not refused
    fd = [(f(p0.at[i].add(eps)) - f(p0.at[i].add(-eps))) / (2 * eps) for i in range(2)]
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)
    grad_q = jax.grad(lambda x: jt.renyi_divergence(p0, x, alpha))(q)  # the reference too
    assert np.all(np.isfinite(grad_q))


def test_one_alpha_does_not_poison_another():
    p0, q = jnp.array([0.3, 0.7]), jnp.array([0.6, 0.4])
    alphas = jnp.array([1.0, 2.0, jnp.inf, -jnp.inf, 0.0])
    jac = jax.jacobian(lambda p: jt.renyi_divergence(p, q, alphas))(p0)
    for k, a in enumerate(alphas):
        alone = jax.grad(lambda p: jt.renyi_divergence(p, q, a))(p0)
        np.testing.assert_allclose(jac[k], alone, rtol=1e-12)
    assert np.all(np.isfinite(jac))


def _log_space_divergence(p, beta, g, alpha):
    """D_α(p‖τ) from log τ in plain NumPy (log-sum-exp), no underflow."""
    m = np.arange(len(p)) - (len(p) - 1) / 2
    logits = -beta * g * m
    log_tau = logits - np.logaddexp.reduce(logits)
    if alpha == 1.0:
        return float(np.sum(p * (np.log(p) - log_tau)))
    if np.isinf(alpha):
        return float(np.max(np.log(p) - log_tau))
    return float(np.logaddexp.reduce(alpha * np.log(p) + (1 - alpha) * log_tau) / (alpha - 1))


@pytest.mark.parametrize("beta", [1e3, 1e4])
def test_divergences_and_free_energies_stay_finite_at_large_beta_g(beta):
    p = np.array([0.6, 0.3, 0.1])
    rho = jnp.diag(jnp.asarray(p))
    alphas = [1.0, 2.0, np.inf]
    got = divergences_to_thermal(rho, beta, 1.0, alphas)
    want = [_log_space_divergence(p, beta, 1.0, a) for a in alphas]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # F_α = [D_α − log Z]/β is finite, with a finite β-derivative
    f = jt.free_energy(jnp.asarray(p), beta, 1.0, 2.0)
    df = jax.grad(lambda b: jt.free_energy(jnp.asarray(p), b, 1.0, 2.0))(beta)
    assert np.isfinite(f) and np.isfinite(df)
    h = beta * 1e-6
    fd = (jt.free_energy(jnp.asarray(p), beta + h, 1.0, 2.0) - jt.free_energy(jnp.asarray(p), beta - h, 1.0, 2.0)) / (
        2 * h
    )
    np.testing.assert_allclose(df, fd, rtol=1e-5)


@pytest.mark.parametrize("p", [[np.nan, 1.0], [-0.1, 1.1], [0.5, 0.6]])
def test_classical_measures_refuse_bad_populations(p):
    q = np.array([0.6, 0.4])
    with pytest.raises(ValueError, match=r"\bp\b"):
        jt.renyi_divergence(np.array(p), q, 2.0)
    with pytest.raises(ValueError, match=r"\bq\b"):
        jt.renyi_divergence(q, np.array(p), 2.0)
    with pytest.raises(ValueError, match=r"\bp\b"):
        jt.shannon_entropy(np.array(p))


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.array([[0.5, 0.3], [0.1, 0.5]]), "not Hermitian"),
        (np.diag([0.6, 0.5]), "unit trace"),
        (np.diag([1.5, -0.5]), "positive semidefinite"),
    ],
)
def test_quantum_measures_refuse_bad_states(bad, message):
    good = np.diag([0.6, 0.4])
    for call in (
        lambda: jt.relative_entropy(bad, good),
        lambda: jt.petz_renyi_divergence(bad, good, 0.5),
        lambda: jt.sandwiched_renyi_divergence(good, bad, 2.0),
        lambda: jt.von_neumann_entropy(bad),
        lambda: jt.trace_distance(good, bad),
        lambda: jt.coherence(bad),
    ):
        with pytest.raises(ValueError, match=message):
            call()


@pytest.mark.parametrize("d, beta_g", [(2, 50.0), (3, 40.0), (4, 200.0), (3, 2000.0)])
def test_quantum_divergences_to_a_cold_thermal_state_are_finite(d, beta_g):
    """τ_S has full rank at every finite β: D_α(ρ‖τ_S) of a coherent ρ is finite however cold (its
    smallest populations e^{−βg(d−1)}/Z once counted as zero, giving +∞, and NaN in ensemble means).
    Against NumPy with log τ_S (βg ≤ 200) and, at any βg, the free energy F_α = (D_α − log Z)/β and
    the sandwiched D_∞ ≥ D_2 ≥ D_1 ≥ D_½ order; ∂D_α/∂β finite and equal to central differences."""
    rho = jnp.asarray(random_state(d, np.random.default_rng(d)))
    alphas = [0.0, 0.5, 1.0, 2.0, float("inf")]
    got = np.asarray(divergences_to_thermal(rho, beta_g, 1.0, alphas, quantum=True))
    assert np.all(np.isfinite(got)) and np.all(np.diff(got[1:]) > 0)
    if beta_g <= 200:
        log_t = np.asarray(log_thermal_populations(d, beta_g, 1.0))
        ref = [numpy_divergence_to_diagonal(np.asarray(rho), log_t, a) for a in alphas]
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)
    log_z = float(jt.log_partition_function(d, beta_g, 1.0))
    f = np.array([float(jt.quantum_free_energy(rho, beta_g, 1.0, a)) for a in alphas])
    np.testing.assert_allclose(beta_g * f + log_z, got, rtol=1e-12, atol=1e-12 * abs(log_z))
    d2 = lambda b: divergences_to_thermal(rho, b, 1.0, [2.0], quantum=True)[0]
    h = 1e-4 * beta_g
    np.testing.assert_allclose(
        float(jax.grad(d2)(beta_g)), float((d2(beta_g + h) - d2(beta_g - h)) / (2 * h)), rtol=1e-6
    )


@pytest.mark.parametrize("jit", [False, True])
def test_zero_renyi_divergences_are_plus_zero(jit):
    """D_0(p‖q) = −log Σ_{p_j>0} q_j is exactly 0 at full support (Σ q_j = 1) and D_α(p‖p) = 0 for every α:
    printed as 0, not −0 (−log 1 and sgn α/(α − 1)·log 1 with 0 < α < 1 gave −0.0)."""
    fn = jax.jit(jt.renyi_divergence) if jit else jt.renyi_divergence
    p, q = np.array([0.25, 0.75]), np.array([0.5, 0.5])
    assert np.sum(q[p > 0]) == 1.0  # the mass is exactly one: D_0 = −log 1 = +0
    value = np.asarray(fn(p, q, 0.0))
    assert value == 0.0 and not np.signbit(value)
    for alpha in (0.0, 0.3, 0.5, 1.0, 2.0, np.inf, -np.inf, -0.5):
        value = np.asarray(fn(p, p, alpha))  # 0 up to the rounding of log Σ p_j^α p_j^{1−α}; +0 where exact
        assert abs(value) <= 1e-15 and not (value == 0.0 and np.signbit(value)), alpha
    values = np.asarray(fn(p, q, jnp.array([0.0, 0.5, 1.0, 2.0])))
    assert values[0] == 0.0 and not np.signbit(values[0])


@pytest.mark.parametrize("beta_g", [30.0, 60.0, 300.0])
def test_relative_entropy_to_a_cold_full_rank_state_is_finite(beta_g):
    """σ = τ_S of a qutrit (populations e^{−βg k}/Z down to e^{−600}): full rank, certified from its diagonal, so
    S(ρ‖σ) = −S(ρ) − Σ_j ρ_jj log t_j with the analytic log t_j (it was +∞: eigenvalues below 1e-12 counted as
    zero); its β-derivative against central differences."""
    rng = np.random.default_rng(3)
    rho = random_state(3, rng)
    log_t = np.asarray(log_thermal_populations(3, beta_g, 1.0))
    s_rho = -np.sum([w * np.log(w) for w in np.linalg.eigvalsh(rho)])
    ref = -s_rho - np.sum(np.real(np.diag(rho)) * log_t)
    sigma = jnp.diag(jnp.exp(log_thermal_populations(3, beta_g, 1.0))).astype(complex)
    np.testing.assert_allclose(float(jt.relative_entropy(rho, sigma)), ref, rtol=1e-12)

    def f(b):
        return jt.relative_entropy(rho, jnp.diag(jnp.exp(log_thermal_populations(3, b, 1.0))).astype(complex))

    h = 1e-4 * beta_g
    fd = (float(f(beta_g + h)) - float(f(beta_g - h))) / (2 * h)
    np.testing.assert_allclose(float(jax.grad(f)(beta_g)), fd, rtol=1e-7)


def test_relative_entropy_resolves_eigenvalues_above_the_rounding_floor():
    """σ with eigenvalues (1 − 1e-13, 1e-13) in a rotated basis: its diagonal does not certify full rank, but
    1e-13 lies above the rounding floor 16·d·ε ≈ 7e-15 and enters with its log (the fixed 1e-12 tolerance made
    S(ρ‖σ) = +∞); 1e-17, below the floor, is a kernel: +∞. Reference: −S(ρ) − Tr ρ U log Λ U†."""
    rng = np.random.default_rng(4)
    u = np.linalg.qr(rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2)))[0]
    rho = random_state(2, rng)
    s_rho = -np.sum([w * np.log(w) for w in np.linalg.eigvalsh(rho)])
    small = 1e-13
    sigma = u @ np.diag([1 - small, small]) @ u.conj().T
    ref = -s_rho - np.real(np.trace(rho @ u @ np.diag(np.log([1 - small, small])) @ u.conj().T))
    np.testing.assert_allclose(float(jt.relative_entropy(rho, sigma)), ref, rtol=1e-4)
    kernel = u @ np.diag([1 - 1e-17, 1e-17]) @ u.conj().T
    assert np.isposinf(float(jt.relative_entropy(rho, kernel)))
