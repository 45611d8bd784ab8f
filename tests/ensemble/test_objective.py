"""jt.ensemble_mean: a differentiable ensemble objective, checked against the engine (same
configurations), central finite differences on common random numbers, and jax.grad of the exact
quadrature route (within 5 standard errors of the per-configuration gradients)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble import _objective
from jaxthermo.ensemble._objective import final_values
from jaxthermo.ensemble._sampling import sample_chunk


def _model(d=2, kind="hamiltonian", theta=0.4, dist=None):
    return jt.InhomogeneousReservoir(d, 1.0, 1.0, theta, kind=kind, distribution=dist or jt.Gaussian(0.15))


def _coherent(d):
    rho = np.asarray(jt.thermal_state(d, 0.3, 1.0), complex)
    rho[0, 1] = rho[1, 0] = 0.08 + 0.03j
    rho[1, 0] = np.conj(rho[0, 1])
    return jnp.asarray(rho)


def _rebuild(model, p):
    return model.replace(theta=p[0], beta=p[1], g0=p[2], distribution=jt.Gaussian(p[3]))


def _per_config_gradients(fn, model, params, rho0, n_steps, n_configs, seed):
    """Per-configuration gradients of fn(model, rho_N, W_N, Q_N) with respect to (θ, β, g0, σ), an
    independent per-configuration route (a tuple of parameters: a gradient pytree of a distribution
    would be checked as a scale and refused when negative)."""
    idx = jnp.arange(n_configs, dtype=jnp.uint32)

    def one(p, i):
        m = _rebuild(model, p)
        deltas = sample_chunk(m.distribution, jax.random.key(seed), i[None], n_steps, jnp.float64)[0]
        return fn(m, *final_values(m, rho0, deltas)[:3])  # ρ_N, W_N, Q_N

    return jax.vmap(jax.grad(one), (None, 0))(params, idx)


def test_value_equals_the_engine_on_the_same_configurations():
    model, rho0 = _model(), _coherent(2)
    res = jt.ensemble(model, rho0, 8, 600, seed=3, alphas=(2.0,), chunk_size=200)
    w = jt.ensemble_mean(model, rho0, 8, 600, seed=3, chunk_size=128)
    q = jt.ensemble_mean(model, rho0, 8, 600, seed=3, observable="total_heat")
    f = jt.ensemble_mean(model, rho0, 8, 600, seed=3, observable="free_energy", alpha=2.0)
    np.testing.assert_allclose(w, res.mean_total_work, rtol=1e-11, atol=1e-15)
    np.testing.assert_allclose(q, np.sum(res.mean_heat), rtol=1e-11, atol=1e-15)
    log_z = jt.log_partition_function(2, 1.0, 1.0)
    np.testing.assert_allclose(f, res.mean_divergence[-1, 0] - log_z, rtol=1e-10)
    out = jt.ensemble_mean(model, rho0, 8, 600, seed=3, stderr=True)
    assert isinstance(out, jt.EnsembleMean) and out.n_configs == 600
    np.testing.assert_allclose(out.stderr, res.standard_error("cumulative_work")[-1], rtol=1e-8)


def test_gradient_is_the_same_for_every_chunk_size():
    model, rho0 = _model(), jt.thermal_state(2, 0.5, 1.0)
    grads = [jax.grad(lambda m: jt.ensemble_mean(m, rho0, 6, 500, seed=1, chunk_size=c))(model) for c in (500, 128, 7)]
    for g in grads[1:]:
        for a, b in zip(jax.tree.leaves(grads[0]), jax.tree.leaves(g)):
            np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-16)


def test_gradient_matches_central_finite_differences_on_common_random_numbers():
    model, rho0 = _model(d=3), _coherent(3)
    f = lambda th, s: jt.ensemble_mean(model.replace(theta=th, distribution=jt.Gaussian(s)), rho0, 5, 400, seed=2)
    g_th, g_s = jax.grad(f, argnums=(0, 1))(0.4, 0.15)
    h = 1e-5
    np.testing.assert_allclose(g_th, (f(0.4 + h, 0.15) - f(0.4 - h, 0.15)) / (2 * h), rtol=1e-6)
    np.testing.assert_allclose(g_s, (f(0.4, 0.15 + h) - f(0.4, 0.15 - h)) / (2 * h), rtol=1e-6)


CASES = [
    # (d, kind, rho0, theta schedule?, observable)
    (2, "hamiltonian", "thermal", False, "total_work"),
    (3, "hamiltonian", "coherent", False, "total_work"),
    (2, "temperature", "coherent", True, "total_heat"),
    (3, "temperature", "thermal", True, "total_heat"),
]


@pytest.mark.parametrize("d,kind,state,schedule,observable", CASES)
def test_gradient_agrees_with_the_exact_quadrature_route(d, kind, state, schedule, observable):
    n_steps, n_configs = 5, 2000
    theta = jnp.linspace(0.3, 0.7, n_steps) if schedule else 0.5
    model = _model(d, kind, theta, jt.Gaussian(0.2))
    rho0 = _coherent(d) if state == "coherent" else jt.thermal_state(d, 0.4, 1.0)
    field = "work" if observable == "total_work" else "heat"
    params = (model.theta, 1.0, 1.0, 0.2)
    exact = lambda p: jnp.sum(getattr(jt.averaged_trajectory(_rebuild(model, p), rho0, n_steps), field))
    g_exact = jax.grad(exact)(params)
    g_mc = jax.grad(
        lambda p: jt.ensemble_mean(_rebuild(model, p), rho0, n_steps, n_configs, seed=5, observable=observable)
    )(params)
    per = _per_config_gradients(
        lambda m, r, w, q: w if field == "work" else q, model, params, rho0, n_steps, n_configs, 5
    )
    for k, name in enumerate(("theta", "beta", "g0", "sigma")):
        se = np.std(np.asarray(per[k]), axis=0, ddof=1) / np.sqrt(n_configs)
        np.testing.assert_allclose(np.mean(np.asarray(per[k]), axis=0), g_mc[k], rtol=1e-9, atol=1e-14)
        assert np.all(np.abs(np.asarray(g_mc[k]) - np.asarray(g_exact[k])) <= 5 * se + 1e-12), name


def test_jacfwd_vmap_and_no_retrace_for_new_values():
    model, rho0 = _model(), jt.thermal_state(2, 0.5, 1.0)
    f = lambda th: jt.ensemble_mean(model.replace(theta=th), rho0, 5, 300, seed=4)
    np.testing.assert_allclose(jax.jacfwd(f)(0.4), jax.grad(f)(0.4), rtol=1e-12)
    thetas = jnp.array([0.2, 0.4, 0.6])
    np.testing.assert_allclose(jax.vmap(f)(thetas), [f(t) for t in thetas], rtol=1e-12)
    g = jax.grad(f)
    g(jnp.asarray(0.3))
    before = _objective.TRACE_COUNT["n"]
    for t in (0.31, 0.5, 0.9):
        g(jnp.asarray(t))
        f(jnp.asarray(t))
    assert _objective.TRACE_COUNT["n"] == before


def test_callable_observable_and_quantum_free_energy_gradient():
    model, rho0 = _model(), _coherent(2)
    obs = lambda rho, w, q: jnp.real(rho[0, 1]) + w
    f = lambda th: jt.ensemble_mean(model.replace(theta=th), rho0, 4, 200, seed=0, observable=obs)
    h = 1e-5
    np.testing.assert_allclose(jax.grad(f)(0.4), (f(0.4 + h) - f(0.4 - h)) / (2 * h), rtol=1e-6)
    fq = lambda th: jt.ensemble_mean(
        model.replace(theta=th), rho0, 4, 200, seed=0, observable="free_energy", alpha=2.0, quantum=True
    )
    np.testing.assert_allclose(jax.grad(fq)(0.4), (fq(0.4 + h) - fq(0.4 - h)) / (2 * h), rtol=1e-5)


def test_free_energies_quantum_under_jit_vmap_and_grad():
    model, rho0 = _model(), _coherent(2)
    alphas = (0.5, 1.0, 2.0, float("inf"))
    eager = jt.free_energies(model, rho0, alphas, quantum=True)
    np.testing.assert_allclose(
        jax.jit(lambda r: jt.free_energies(model, r, alphas, quantum=True))(rho0), eager, rtol=1e-12
    )
    batch = jax.vmap(lambda b: jt.free_energies(model.replace(beta=b), rho0, alphas, quantum=True))(
        jnp.array([0.5, 1.0])
    )
    np.testing.assert_allclose(batch[1], eager, rtol=1e-12)
    for k in range(3):  # α = ∞ of a full-rank state: finite gradient too
        f = lambda b: jt.free_energies(model.replace(beta=b), rho0, alphas, quantum=True)[k]
        g = jax.grad(f)(1.0)
        np.testing.assert_allclose(g, (f(1.0 + 1e-5) - f(1.0 - 1e-5)) / 2e-5, rtol=1e-5)


def test_free_energy_of_a_traced_initial_state_keeps_its_coherences():
    """vmap or grad over ρ0 (jit alike): the free energy of a coherent ρ0 is the quantum one, as for the
    concrete ρ0 (the traced ρ0 used to take the populations only: vmap gave −0.978 for −0.892), and
    its gradient along ρ0 agrees with central finite differences; a diagonal ρ0 is unchanged."""
    model, rho0 = _model(), _coherent(2)
    f = lambda r: jt.ensemble_mean(model, r, 4, 100, seed=1, observable="free_energy", alpha=2.0)
    concrete = f(rho0)
    diag = jnp.diag(jnp.diagonal(rho0))
    np.testing.assert_allclose(jax.vmap(f)(jnp.stack([rho0, diag])), [concrete, f(diag)], rtol=1e-12)
    along = lambda p: f(rho0 + p * jnp.diag(jnp.array([1.0, -1.0])))  # population moved, coherence kept
    h = 1e-5
    np.testing.assert_allclose(jax.grad(along)(0.0), (along(h) - along(-h)) / (2 * h), rtol=1e-6)


def test_bad_input_is_named():
    model, rho0 = _model(), jt.thermal_state(2, 0.5, 1.0)
    with pytest.raises(ValueError, match="observable"):
        jt.ensemble_mean(model, rho0, 3, 10, observable="work")
    with pytest.raises(ValueError, match="alpha"):
        jt.ensemble_mean(model, rho0, 3, 10, observable="free_energy")
    with pytest.raises(ValueError, match="theta"):
        jt.ensemble_mean(model.replace(theta=jnp.ones(4)), rho0, 3, 10)
    with pytest.raises(ValueError, match="distribution"):
        jt.ensemble_mean(model.replace(distribution=None), rho0, 3, 10)


def test_a_complex_observable_is_refused_not_cut_to_its_real_part():
    """ρ_01 of a coherent state: a ValueError naming the observable (it was averaged as Re ρ_01 with
    only JAX's casting warning); jnp.real of it is the mean of Re ρ_01 (the per-configuration route)."""
    model, rho0 = _model(), _coherent(2)
    with pytest.raises(ValueError, match="observable must return a real scalar.*complex"):
        jt.ensemble_mean(model, rho0, 3, 10, observable=lambda rho, w, q: rho[0, 1])
    real = jt.ensemble_mean(model, rho0, 3, 10, observable=lambda rho, w, q: jnp.real(rho[0, 1]))
    deltas = sample_chunk(model.distribution, jax.random.key(0), jnp.arange(10, dtype=jnp.uint32), 3, jnp.float64)
    direct = jnp.mean(jax.vmap(lambda dl: jnp.real(jt.trajectory(model, rho0, dl).states[-1, 0, 1]))(deltas))
    np.testing.assert_allclose(real, direct, rtol=1e-12)


def test_standard_error_of_a_narrow_observable_in_float64_and_float32():
    """A free energy whose spread over configurations is 4·10⁻⁶ of its mean (σ = 0.05, θ = 0.2):
    the standard error equals NumPy's std(ddof=1)/√n of the per-configuration values (float64 to
    1e-9, float32 to 1 %). Running sums Σv, Σv² cancel there (variance/mean² ≈ 2·10⁻¹¹ < float32's
    ε): float32 gave nothing but rounding, float64 a few per cent off in narrower cases."""
    model, n = _model(theta=0.2, dist=jt.Gaussian(0.05)), 1000
    rho0 = jt.thermal_state(2, 1.0, 1.0)
    deltas = sample_chunk(model.distribution, jax.random.key(1), jnp.arange(n, dtype=jnp.uint32), 10, jnp.float64)
    values = jax.vmap(lambda dl: jt.free_energies(model, final_values(model, rho0, dl)[0], (1.0,))[0])(deltas)
    expected = np.std(np.asarray(values), ddof=1) / np.sqrt(n)
    kw = dict(observable="free_energy", alpha=1.0, stderr=True, chunk_size=300)  # 4 chunks merged
    np.testing.assert_allclose(jt.ensemble_mean(model, rho0, 10, n, 1, **kw).stderr, expected, rtol=1e-9)
    f32 = jt.ensemble_mean(model, rho0.astype(jnp.complex64), 10, n, 1, **kw)
    np.testing.assert_allclose(f32.stderr, expected, rtol=1e-2)


def test_a_float32_mean_far_from_zero_merged_over_many_chunks_is_correctly_rounded():
    """Q_N in float32 with mean/spread ≈ 1.5·10⁴ (σ = 10⁻⁴), 1000 chunks of 50 configurations: the mean
    is NumPy's float64 mean of the same per-configuration values (``final_values``, the function the
    objective streams) rounded to float32, within 0.6 ulp. Merged at float32 alone, each merge rounded
    the running mean: 1.07 ulp off here (2.8 ulp, 0.9 standard errors, for 10⁵ configurations in chunks of 100)."""
    model = _model(theta=0.5, dist=jt.Gaussian(1e-4))
    rho0 = jnp.diag(jnp.array([0.05, 0.95])).astype(jnp.complex64)
    n, n_steps = 50_000, 4
    deltas = sample_chunk(model.distribution, jax.random.key(3), jnp.arange(n, dtype=jnp.uint32), n_steps, jnp.float32)
    values = np.asarray(jax.jit(jax.vmap(lambda dl: final_values(model, rho0, dl)[2]))(deltas), np.float64)
    mean = values.mean()
    assert abs(mean) / values.std() > 1e4  # the regime of the defect
    out = jt.ensemble_mean(model, rho0, n_steps, n, 3, observable="total_heat", chunk_size=50, stderr=True)
    assert out.mean.dtype == jnp.float32
    assert abs(float(out.mean) - mean) <= 0.6 * float(np.spacing(np.float32(abs(mean))))
    np.testing.assert_allclose(out.stderr, values.std(ddof=1) / np.sqrt(n), rtol=1e-4)


def test_a_traced_seed_draws_the_configurations_of_that_seed_without_recompiling():
    """The seed is an argument of the compiled program: inside ``jit`` (an optax step) each seed gives
    the same value as the concrete seed, and new seeds trace nothing."""
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.4, distribution=jt.Gaussian(0.2))
    rho0 = jt.thermal_state(2, 0.5, 1.0)
    step = jax.jit(jax.value_and_grad(lambda th, s: jt.ensemble_mean(model.replace(theta=th), rho0, 3, 150, seed=s)))
    step(0.4, jnp.asarray(0))
    traced = _objective.TRACE_COUNT["n"]
    for seed in (1, 2, 7):
        value, grad = step(0.4, jnp.asarray(seed))
        want = jax.value_and_grad(lambda th: jt.ensemble_mean(model.replace(theta=th), rho0, 3, 150, seed=seed))(0.4)
        np.testing.assert_allclose((value, grad), want, rtol=1e-13)
    assert _objective.TRACE_COUNT["n"] == traced
    assert jt.ensemble_mean(model, rho0, 3, 150, seed=1) != jt.ensemble_mean(model, rho0, 3, 150, seed=2)
    for bad in (1.5, "a", True):  # named, as by jt.ensemble (operator.index's message did not name seed)
        with pytest.raises(TypeError, match="seed="):
            jt.ensemble_mean(model, rho0, 3, 150, seed=bad)
    # a concrete integer JAX scalar is a seed like the Python integer
    assert jt.ensemble_mean(model, rho0, 3, 150, seed=jnp.int32(7)) == jt.ensemble_mean(model, rho0, 3, 150, seed=7)


@pytest.mark.parametrize(
    "d, kind, state", [(2, "hamiltonian", "coherent"), (2, "temperature", "coherent"), (3, "temperature", "thermal")]
)
def test_entropy_production_observable_against_trajectories_and_the_engine(d, kind, state):
    """observable="entropy_production": the mean and standard error of ΔS_1 + … + ΔS_N against the same
    configurations' S(ρ_S|N) − S(ρ0) − Σ β_r Q_r from von Neumann entropies of their trajectories (rtol 1e-11) and
    the engine's total; jax.grad (reverse mode, θ schedule, β, g0, σ) against the engine's forward-mode
    ``sensitivity[...].mean_total_entropy_production`` of the same configurations (rtol 1e-9)."""
    n_steps, n_configs, seed = 5, 300, 4
    model = _model(d, kind, jnp.linspace(0.3, 0.6, n_steps), jt.Gaussian(0.1))
    rho0 = _coherent(d) if state == "coherent" else jt.thermal_state(d, 0.4, 1.0)
    deltas = sample_chunk(
        model.distribution, jax.random.key(seed), jnp.arange(n_configs, dtype=jnp.uint32), n_steps, jnp.float64
    )

    def total(dl):
        traj = jt.trajectory(model, rho0, dl)
        beta_r = model.beta * (1 + dl) if kind == "temperature" else model.beta
        entropy = jt.von_neumann_entropy(traj.states)
        return entropy[-1] - entropy[0] - jnp.sum(beta_r * traj.heat)

    per = np.asarray(jax.vmap(total)(deltas))
    out = jt.ensemble_mean(model, rho0, n_steps, n_configs, seed, observable="entropy_production", stderr=True)
    assert abs(per.mean()) > 1e-3  # a production to see
    np.testing.assert_allclose(out.mean, per.mean(), rtol=1e-11)
    np.testing.assert_allclose(out.stderr, per.std(ddof=1) / np.sqrt(n_configs), rtol=1e-9)
    names = ("theta", "beta", "g0", "sigma")
    res = jt.ensemble(model, rho0, n_steps, n_configs, seed, wrt=names)
    np.testing.assert_allclose(out.mean, res.mean_total_entropy_production, rtol=1e-12)
    params = (model.theta, 1.0, 1.0, 0.1)
    grads = jax.grad(
        lambda p: jt.ensemble_mean(_rebuild(model, p), rho0, n_steps, n_configs, seed, observable="entropy_production")
    )(params)
    for name, g in zip(names, grads):
        forward = res.sensitivity[name].mean_total_entropy_production
        np.testing.assert_allclose(g, forward, rtol=1e-9, atol=1e-13, err_msg=name)
    assert np.max(np.abs(grads[0])) > 1e-3


def test_entropy_production_takes_quantum_not_alpha():
    """A diagonal ρ0's classical D_1 equals the quantum one (quantum=True accepted); an order is refused by name."""
    model, rho0 = _model(), jt.thermal_state(2, 0.4, 1.0)
    plain = jt.ensemble_mean(model, rho0, 4, 64, observable="entropy_production")
    quantum = jt.ensemble_mean(model, rho0, 4, 64, observable="entropy_production", quantum=True)
    np.testing.assert_allclose(quantum, plain, rtol=1e-12)
    with pytest.raises(ValueError, match=r'alpha=1\.0: only observable="free_energy" takes it'):
        jt.ensemble_mean(model, rho0, 4, 64, observable="entropy_production", alpha=1.0)
