"""The engine's fast default paths against the reference routes (docs/ensemble.md §2).

* the closed-form qubit quantum divergences, the eigenvalue-only qudit ones (with the LAPACK-free
  3×3 eigenvalues) and the static-α classical ones against
  :func:`jaxthermo.quantum_renyi_divergence` and :func:`jaxthermo.divergences_to_thermal`;
* the ``divergence_every`` stride against the every-step run;
* the streamed totals (cumulative heat and energy change, cumulants of W_N and Q_N,
  ⟨e^{−βW_N}⟩ and its standard error) against a direct computation with
  :func:`jaxthermo.trajectory` on the same configurations, for several chunk sizes and device
  counts, and through save/load, checkpoints and sweeps;
* one CPU device per core after import (subprocesses).
"""

import os
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo._information import log_thermal_populations
from jaxthermo._runtime import usable_cpu_count
from jaxthermo.ensemble._divergences import (
    classical_divergences,
    eigvalsh3,
    eigvalsh3_fast,
    quantum_divergences_thermal,
    qubit_quantum_divergences,
)
from jaxthermo.ensemble._sampling import sample_chunk
from tests.helpers import fresh_python, numpy_divergence_to_diagonal, random_state

ALPHAS = (0.0, 0.3, 0.5, 0.9, 1.0, 1.5, 2.0, 3.0, float("inf"))


def _qubit_states(rng, n):
    out = []
    for k in range(n):
        v = rng.normal(size=2) + 1j * rng.normal(size=2)
        v /= np.linalg.norm(v)
        lam = 1.0 if k % 5 == 0 else (0.0 if k % 7 == 0 else rng.uniform())
        rho = lam * np.outer(v, v.conj()) + (1 - lam) * np.eye(2) / 2
        out.append(np.diag(np.diag(rho)) if k % 11 == 0 else rho)
    out += [np.diag([1.0, 0.0]).astype(complex), np.diag([0.0, 1.0]).astype(complex)]
    return np.asarray(out)


@pytest.mark.parametrize("beta, g", [(1.0, 1.3), (0.0, 1.0), (2.0, -1.5), (40.0, 1.0)])
def test_qubit_quantum_divergences_closed_form(beta, g):
    """Pure, mixed, maximally mixed, diagonal states; at βg = 40 t_1 ≈ 4e-18 is below the support
    tolerance of ρ's eigenvalues but τ_S has full rank: D_α finite (it was +∞ for coherent ρ).
    Reference: the generic matrix route where τ_S is not cold, NumPy with log τ_S otherwise."""
    rho = _qubit_states(np.random.default_rng(int(10 * beta)), 120)
    tau = np.diag(np.asarray(jt.thermal_populations(2, beta, g))).astype(complex)
    log_t = np.asarray(log_thermal_populations(2, beta, g))
    got = np.asarray(
        qubit_quantum_divergences(
            jnp.asarray(rho[:, 0, 0].real),
            jnp.asarray(rho[:, 0, 1].real),
            jnp.asarray(rho[:, 0, 1].imag),
            beta,
            g,
            ALPHAS,
        )
    )
    for j, a in enumerate(ALPHAS):
        if beta * abs(g) < 20:
            ref = np.asarray(jt.quantum_renyi_divergence(jnp.asarray(rho), tau, a))
        else:
            ref = np.array([numpy_divergence_to_diagonal(r, log_t, a) for r in rho])
        assert np.all(np.isfinite(ref)) and np.all(np.isfinite(got[:, j]))
        np.testing.assert_allclose(got[:, j], ref, rtol=1e-12, atol=1e-12)


def test_qubit_quantum_divergences_negative_alpha_rejected():
    with pytest.raises(ValueError, match="alpha"):
        qubit_quantum_divergences(jnp.array([0.5]), jnp.array([0.1]), jnp.array([0.0]), 1.0, 1.0, (-1.0,))


def _qudit_states(rng, d, n):
    """Random coherent states of every kind the 3×3 formula finds hard: pure and rank-deficient,
    nearly degenerate pairs (at the top, in the middle, near zero), nearly maximally mixed, tiny
    eigenvalues, diagonal, and pure states close to the ground state (finite D_α at βg = 10³)."""
    out = []
    for k in range(n):
        u, _ = np.linalg.qr(rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d)))
        kind = k % 9
        if kind == 0:
            lam = np.eye(d)[0]
        elif kind == 1:
            lam = np.r_[0.7, 0.3, np.zeros(d - 2)]
        elif kind == 2:
            lam = np.r_[0.3, 0.3 + 1e-9, np.full(d - 2, (0.4 - 1e-9) / (d - 2))]
        elif kind == 3:
            lam = np.r_[0.2, np.full(d - 1, 0.8 / (d - 1))]
        elif kind == 4:
            lam = np.full(d, 1.0 / d) + 1e-10 * (np.arange(d) - (d - 1) / 2)
        elif kind == 5:
            lam = np.r_[1e-13, 1e-10, 1e-3, np.zeros(d - 3)]
            lam[-1] += 1 - lam.sum()
        elif kind == 6:
            out.append(np.diag(rng.dirichlet(np.ones(d))).astype(complex))
            continue
        elif kind == 7:
            v = np.r_[1.0, 1e-7 * (rng.normal(size=d - 1) + 1j * rng.normal(size=d - 1))]
            v /= np.linalg.norm(v)
            out.append(np.outer(v, v.conj()))
            continue
        else:
            lam = rng.dirichlet(np.ones(d))
        rho = (u * lam) @ u.conj().T
        out.append(0.5 * (rho + rho.conj().T))
    return np.asarray(out)


QUDIT_ALPHAS = (0.5, 1.0, 2.0, 3.5, float("inf"))


@pytest.mark.parametrize("d", [3, 4, 6, 8])
@pytest.mark.parametrize("beta, g", [(1.0, 1.3), (0.0, 1.0), (2.0, -1.5), (12.0, 1.0), (1e3, 1.0)])
def test_quantum_divergences_thermal_equal_reference(d, beta, g):
    """Eigenvalues only (and the 3×3 formula at d = 3) against the reference route, to 1e-10;
    βg = 12 puts t_j^γ up to e^{±(d−1)·6} (log space), βg = 10³ up to e^{(d−1)·500}, beyond float64's
    range (the largest factor is taken out; τ_S keeps full rank, so D_α stays finite)."""
    rho = jnp.asarray(_qudit_states(np.random.default_rng(d), d, 72))
    got = np.asarray(jax.jit(lambda r: quantum_divergences_thermal(r, beta, g, QUDIT_ALPHAS))(rho))
    ref = np.asarray(jt.divergences_to_thermal(rho, beta, g, QUDIT_ALPHAS, quantum=True))
    fin = np.isfinite(ref)
    np.testing.assert_array_equal(np.isfinite(got), fin)
    assert fin[:, 1].sum() >= 8  # finite values in every case, also at βg = 10³
    np.testing.assert_allclose(got[fin], ref[fin], rtol=1e-10, atol=1e-10)


def test_eigvalsh3_against_lapack():
    """No LAPACK for 3×3: ≈ ε accuracy on degenerate and rank-deficient spectra (where the plain
    trigonometric formula loses √ε) and on diagonal matrices."""
    rho = _qudit_states(np.random.default_rng(7), 3, 180)
    got = np.sort(np.asarray(jax.jit(eigvalsh3)(jnp.asarray(rho))), axis=-1)
    np.testing.assert_allclose(got, np.linalg.eigvalsh(rho), rtol=0, atol=5e-15)
    np.testing.assert_array_equal(np.asarray(eigvalsh3(jnp.eye(3, dtype=complex) / 3)), np.full(3, 1 / 3))


def test_eigvalsh3_fast_values_and_derivatives():
    """The d = 3 route of the divergences: ascending values of the QR routine to ≈ ε (also pure and
    degenerate spectra), derivatives equal to those of the 3×3 formula and to central differences."""
    rho = _qudit_states(np.random.default_rng(8), 3, 180)
    got = np.asarray(jax.jit(eigvalsh3_fast)(jnp.asarray(rho)))
    np.testing.assert_allclose(got, np.linalg.eigvalsh(rho), rtol=0, atol=5e-15)
    rng = np.random.default_rng(9)
    a = jnp.asarray(random_state(3, rng))
    h = rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3))
    h = jnp.asarray(h + h.conj().T)
    _, tangent = jax.jvp(eigvalsh3_fast, (a,), (h,))
    _, tangent3 = jax.jvp(lambda x: jnp.sort(eigvalsh3(x), axis=-1), (a,), (h,))
    np.testing.assert_allclose(np.asarray(tangent), np.asarray(tangent3), rtol=1e-12, atol=1e-14)
    eps = 1e-6
    fd = (np.linalg.eigvalsh(np.asarray(a + eps * h)) - np.linalg.eigvalsh(np.asarray(a - eps * h))) / (2 * eps)
    np.testing.assert_allclose(np.asarray(tangent), fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("d", [3, 4])
def test_quantum_divergences_thermal_gradient(d):
    """jax.grad (the ensemble's wrt path differentiates D_α) against central differences at an
    interior point, through ρ and β."""
    rho0 = random_state(d, np.random.default_rng(5))
    h = np.random.default_rng(6).normal(size=(d, d)) + 1j * np.random.default_rng(7).normal(size=(d, d))
    h = h + h.conj().T
    h -= np.trace(h) / d * np.eye(d)

    def f(x):
        rho = jnp.asarray(rho0) + x[0] * 0.01 * jnp.asarray(h)
        return jnp.sum(
            quantum_divergences_thermal(rho, 0.9 + x[1], 1.2, (1.0, 2.0, float("inf"))) * jnp.array([1.0, 0.7, 0.4])
        )

    x0 = jnp.zeros(2)
    grad = np.asarray(jax.grad(f)(x0))
    eps = 1e-6
    fd = [(f(x0.at[i].add(eps)) - f(x0.at[i].add(-eps))) / (2 * eps) for i in range(2)]
    np.testing.assert_allclose(grad, np.asarray(fd), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_classical_divergences_static_alpha(d):
    rng = np.random.default_rng(d)
    p = rng.dirichlet(np.ones(d), size=50)
    p[0] = 0.0
    p[0, 0] = 1.0
    alphas = ALPHAS + (1.0 + 1e-7, -0.5)  # inside the α → 1 window and negative: the reference route
    got = np.asarray(classical_divergences(jnp.asarray(p), 0.7, 1.1, alphas))
    ref = np.asarray(jt.divergences_to_thermal(jnp.asarray(p[..., None] * np.eye(d)), 0.7, 1.1, alphas))
    np.testing.assert_allclose(got, ref, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("d", [2, 3, 8])
@pytest.mark.parametrize("beta", [0.7, -3.0, 400.0, 2000.0, -2000.0])
def test_classical_max_divergence_picks_the_largest_ratio(d, beta):
    """D_∞ finds its level without logarithms (p_j against p_b e^{log q_j − log q_b}): against the
    reference's maximum of log p_j − log q_j, at temperatures where those exponentials overflow and
    underflow (β g (d − 1) up to 15400), with empty levels, tiny and tied populations."""
    rng = np.random.default_rng(d)
    p = rng.dirichlet(np.ones(d), size=64)
    p[0] = 0.0
    p[0, -1] = 1.0  # all weight on the least populated level of τ_S (β > 0)
    p[1] = 0.0
    p[1, 0] = 1.0
    p[2] = 1.0 / d  # every ratio the same at β = 0 limits; ties otherwise broken by τ_S
    p[3, :] = rng.dirichlet(np.ones(d))
    p[3, -1] = 1e-300  # a tiny weight where τ_S is smallest
    p[3, :-1] *= (1 - 1e-300) / p[3, :-1].sum()
    p[np.arange(4, 12), rng.integers(0, d, 8)] = 0.0  # an empty level
    p[4:12] /= p[4:12].sum(axis=-1, keepdims=True)
    q_log = np.asarray(log_thermal_populations(d, beta, 1.1))
    p[12] = np.exp(q_log - np.logaddexp.reduce(q_log))  # p = τ_S: D_∞ = 0, every level tied
    alphas = (1.0, float("inf"))
    got = np.asarray(classical_divergences(jnp.asarray(p), beta, 1.1, alphas))
    ref = np.asarray(jt.divergences_to_thermal(jnp.asarray(p[..., None] * np.eye(d)), beta, 1.1, alphas, quantum=False))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, ref, rtol=1e-14, atol=1e-14)
    lr = np.where(p > 0, np.log(np.where(p > 0, p, 1.0)) - q_log, -np.inf)  # independent: NumPy
    np.testing.assert_allclose(got[:, 1], lr.max(axis=-1), rtol=1e-13, atol=1e-13)


def _direct(model, rho0, n_steps, n_configs, seed):
    idx = jnp.arange(n_configs, dtype=jnp.uint32)
    deltas = jax.jit(lambda i: sample_chunk(model.distribution, jax.random.key(seed), i, n_steps, jnp.float64))(idx)
    traj = jax.vmap(lambda dl: jt.trajectory(model, rho0, dl, store_states=False))(deltas)
    return np.asarray(traj.work), np.asarray(traj.heat), np.asarray(traj.energy_change)


def _kstats(x):
    n = x.size
    c = x - x.mean()
    m2, m3, m4 = (np.mean(c**k) for k in (2, 3, 4))
    k3 = n * n * m3 / ((n - 1) * (n - 2))
    k4 = n * n * ((n + 1) * m4 - 3 * (n - 1) * m2**2) / ((n - 1) * (n - 2) * (n - 3))
    return np.array([x.var(ddof=1), k3, k4])


CASES = [
    pytest.param(2, "hamiltonian", True, id="qubit-coherent"),
    pytest.param(3, "hamiltonian", False, id="qutrit-diagonal"),
]


@pytest.mark.parametrize("d, kind, coherent", CASES)
@pytest.mark.parametrize("chunk_size", [8, 64])
def test_streamed_totals_equal_direct(d, kind, coherent, chunk_size):
    rng = np.random.default_rng(3 + d)
    rho0 = random_state(d, rng, diagonal=not coherent)
    model = jt.InhomogeneousReservoir(d, 0.8, 1.3, 0.45, kind=kind, distribution=jt.Gaussian(0.3))
    n_steps, n_configs, seed = 7, 53, 5
    res = jt.ensemble(model, rho0, n_steps, n_configs, seed, chunk_size=chunk_size)
    work, heat, du = _direct(model, rho0, n_steps, n_configs, seed)
    for name, x in (("cumulative_heat", np.cumsum(heat, 1)), ("cumulative_energy_change", np.cumsum(du, 1))):
        np.testing.assert_allclose(getattr(res, f"mean_{name}"), x.mean(0), rtol=1e-12, atol=1e-16)
        np.testing.assert_allclose(getattr(res, f"var_{name}"), x.var(0, ddof=1), rtol=1e-10, atol=1e-20)
    w_n, q_n = work.sum(1), heat.sum(1)
    np.testing.assert_allclose(res.work_cumulants, _kstats(w_n), rtol=1e-8, atol=1e-18)
    np.testing.assert_allclose(res.heat_cumulants, _kstats(q_n), rtol=1e-8, atol=1e-18)
    e = np.exp(-model.beta * w_n)
    np.testing.assert_allclose(res.mean_exp_minus_beta_work, e.mean(), rtol=1e-13)
    np.testing.assert_allclose(res.stderr_exp_minus_beta_work, e.std(ddof=1) / np.sqrt(n_configs), rtol=1e-8)
    # first law for the totals, and Jensen's inequality
    np.testing.assert_allclose(
        res.mean_cumulative_energy_change, res.mean_cumulative_work + res.mean_cumulative_heat, rtol=1e-12, atol=1e-15
    )
    assert res.mean_exp_minus_beta_work >= np.exp(-model.beta * res.mean_total_work)


def test_temperature_kind_exp_minus_beta_work_is_one():
    """Temperature kind: g_r = g0, W_r = 0 for every collision, so ⟨e^{−βW_N}⟩ = 1 exactly."""
    model = jt.InhomogeneousReservoir(2, 0.8, 1.3, 0.45, kind="temperature", distribution=jt.Gaussian(0.3))
    res = jt.ensemble(model, random_state(2, np.random.default_rng(0)), 5, 40, chunk_size=16)
    assert res.mean_exp_minus_beta_work == 1.0 and res.stderr_exp_minus_beta_work == 0.0
    np.testing.assert_array_equal(res.work_cumulants, 0.0)


def test_totals_same_for_any_device_count():
    model = jt.InhomogeneousReservoir(2, 0.8, 1.3, 0.45, distribution=jt.Gaussian(0.3))
    rho0 = random_state(2, np.random.default_rng(1))
    a = jt.ensemble(model, rho0, 6, 97, chunk_size=32, devices=jax.devices()[:1])
    b = jt.ensemble(model, rho0, 6, 97, chunk_size=20)
    for name in (
        "mean_cumulative_heat",
        "var_cumulative_energy_change",
        "work_cumulants",
        "heat_cumulants",
        "mean_exp_minus_beta_work",
        "mean_divergence",
        "var_divergence",
    ):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-9, atol=1e-15)


def test_divergence_every_stride():
    model = jt.InhomogeneousReservoir(3, 0.8, 1.3, 0.45, distribution=jt.Gaussian(0.3))
    rho0 = random_state(3, np.random.default_rng(2))
    full = jt.ensemble(model, rho0, 7, 30, divergence_every=1, chunk_size=16)
    strided = jt.ensemble(model, rho0, 7, 30, chunk_size=16)  # coherent qutrit: default stride min(20, N) = 7
    assert strided.info["divergence_every"] == 7
    three = jt.ensemble(model, rho0, 7, 30, divergence_every=3, chunk_size=16)
    for res, rows in ((strided, [0, 7]), (three, [0, 3, 6, 7])):
        np.testing.assert_allclose(res.mean_divergence[rows], full.mean_divergence[rows], rtol=1e-12)
        np.testing.assert_allclose(res.var_divergence[rows], full.var_divergence[rows], rtol=1e-9, atol=1e-20)
        others = np.setdiff1d(np.arange(8), rows)
        assert np.all(np.isnan(res.mean_divergence[others]))
    np.testing.assert_allclose(strided.mean_work, full.mean_work, rtol=1e-14)
    with pytest.raises(ValueError, match="divergence_every"):
        jt.ensemble(model, rho0, 7, 30, divergence_every=0)


def test_new_statistics_survive_save_checkpoint_and_sweep(tmp_path):
    model = jt.InhomogeneousReservoir(2, 0.8, 1.3, 0.45, distribution=jt.Gaussian(0.3))
    rho0 = random_state(2, np.random.default_rng(4))
    res = jt.ensemble(model, rho0, 5, 40, chunk_size=16)
    jt.save_result(tmp_path / "r.npz", res)
    back = jt.load_result(tmp_path / "r.npz")
    for name in (
        "mean_cumulative_heat",
        "var_cumulative_heat",
        "work_cumulants",
        "heat_cumulants",
        "mean_exp_minus_beta_work",
        "stderr_exp_minus_beta_work",
    ):
        np.testing.assert_array_equal(getattr(back, name), getattr(res, name))
    ck = tmp_path / "ck.npz"
    first = jt.ensemble(model, rho0, 5, 40, chunk_size=16, checkpoint=ck)
    resumed = jt.ensemble(model, rho0, 5, 40, chunk_size=16, checkpoint=ck)
    assert resumed.info["chunks_resumed"] > 0
    np.testing.assert_array_equal(resumed.work_cumulants, first.work_cumulants)
    np.testing.assert_array_equal(resumed.mean_exp_minus_beta_work, first.mean_exp_minus_beta_work)
    sw = jt.sweep(model, rho0, 5, 40, grid={"theta": [0.45, 0.2]}, chunk_size=16)
    np.testing.assert_allclose(sw.at(theta=0.45).heat_cumulants, res.heat_cumulants, rtol=1e-12)


CHILD = "import os, jax{pre}; import jaxthermo; print(len(jax.devices('cpu')))"


@pytest.mark.parametrize(
    "env, pre, expected",
    [
        pytest.param({}, "", usable_cpu_count(), id="default-every-core"),
        pytest.param({"XLA_FLAGS": "--xla_force_host_platform_device_count=3"}, "", 3, id="xla-flags"),
        pytest.param({"JAX_NUM_CPU_DEVICES": "1"}, "", 1, id="env-var"),
        pytest.param({}, "; jax.config.update('jax_num_cpu_devices', 1)", 1, id="config"),
        pytest.param({}, "; jax.devices()", 1, id="backend-started"),
    ],
)
def test_one_cpu_device_per_core(env, pre, expected):
    assert int(fresh_python(CHILD.format(pre=pre), env).split()[-1]) == expected


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is a Linux call")
def test_cpu_devices_follow_the_process_affinity():
    """A process confined to one core (taskset, a SLURM allocation) gets one CPU device, not one per core of
    the machine (os.cpu_count(): 2 devices on 1 usable core before)."""
    one_core = "; os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})"
    assert int(fresh_python(CHILD.format(pre=one_core), {}).split()[-1]) == 1
    assert usable_cpu_count() == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("d", [3, 5])
def test_float32_coherent_default_call_stays_float32(d):
    """The default call for coherent qudits in float32 (D_α every 20th collision under a branch whose
    two sides must agree in dtype) runs, keeps float32, and agrees with float64 to float32 accuracy;
    the divergence helpers keep float32 (log τ_S used to come back in float64)."""
    from jaxthermo._information import log_thermal_populations
    from jaxthermo.ensemble._divergences import classical_divergences, quantum_divergences_thermal

    b32 = jnp.float32(1.0)
    assert log_thermal_populations(d, b32, b32).dtype == jnp.float32
    rho32 = jnp.asarray(random_state(d, np.random.default_rng(d)), jnp.complex64)
    assert quantum_divergences_thermal(rho32[None], b32, b32, (1.0, 2.0, float("inf"))).dtype == jnp.float32
    assert classical_divergences(jnp.real(jnp.diagonal(rho32))[None], b32, b32, (0.5, 1.0)).dtype == jnp.float32
    model = jt.InhomogeneousReservoir(d, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.1))
    rho0 = random_state(d, np.random.default_rng(d))
    r32 = jt.ensemble(model, rho0, 40, 300, seed=4, dtype=jnp.float32)
    r64 = jt.ensemble(model, rho0, 40, 300, seed=4)
    assert r32.mean_divergence.dtype == np.float32
    reported = np.isfinite(np.asarray(r64.mean_divergence[:, 0]))
    assert reported.sum() == 3  # r = 0, 20, 40
    # D_1 is a difference of O(1) sums (Σλ log λ − Σρ_jj log t_j): float32 leaves ~10⁻⁶ absolute
    np.testing.assert_allclose(r32.mean_divergence[reported], r64.mean_divergence[reported], rtol=2e-4, atol=2e-6)


def _ops_in_loops(hlo: str):
    """Opcodes of every instruction that XLA's optimised program (text) runs inside a while loop."""
    comps, name = {}, None
    for line in hlo.splitlines():
        head = re.match(r"^(?:ENTRY )?%(\S+) .*\{$", line)
        if head:
            name, comps[head.group(1)] = head.group(1), []
        elif name and line.strip() not in ("", "}"):
            comps[name].append(line)
    called = lambda lines: {
        c for line in lines for c in re.findall(r"(?:calls|to_apply|body|condition)=%([\w.\-]+)", line)
    }
    todo = {b for lines in comps.values() for line in lines for b in re.findall(r"body=%([\w.\-]+)", line)}
    seen, ops = set(), set()
    while todo:
        c = todo.pop()
        if c in seen or c not in comps:
            continue
        seen.add(c)
        ops |= {m.group(1) for line in comps[c] if (m := re.search(r"= \S+ ([\w-]+)\(", line))}
        todo |= called(comps[c])
    return ops


@pytest.mark.parametrize("d", [2, 3])
def test_scalar_theta_trigonometry_stays_outside_the_collision_loop(d):
    """With a scalar θ the compiled kernel computes cos θ and sin θ outside its loops (XLA would
    otherwise call them for every element of the loops that recompute a collision output, and keep
    those loops scalar); with a θ schedule (one θ_r per step) they stay inside, as they must."""
    from jaxthermo.ensemble._kernel import model_a_chunk

    n_steps, b = 6, 64
    rho0 = jnp.asarray(random_state(d, np.random.default_rng(1)))
    idx = jnp.arange(b, dtype=jnp.uint32)
    edges = jnp.linspace(-0.1, 0.1, 9)

    def loop_ops(theta):
        model = jt.InhomogeneousReservoir(d, 1.0, 1.0, theta, distribution=jt.Gaussian(0.1))
        kernel = lambda m: model_a_chunk(
            m, rho0, jax.random.key(0), idx, idx < b, edges, edges, n_steps=n_steps, alphas=(1.0,), coherent=True
        )
        return _ops_in_loops(jax.jit(kernel).lower(model).compile().as_text())

    scalar, schedule = loop_ops(0.3), loop_ops(jnp.linspace(0.1, 0.3, n_steps))
    assert "multiply" in scalar and not {"sine", "cosine"} & scalar
    assert {"sine", "cosine"} <= schedule


@pytest.mark.parametrize("d", [2, 3])
def test_ensemble_divergences_of_a_coherent_state_with_a_cold_reservoir_are_finite(d):
    """βg0 = 50: τ_S's excited populations (e^{−50} and below) once counted as zero, so the ensemble
    reported D_α = +∞ at r = 0 and NaN means after it for a coherent ρ0. Now every mean is finite and
    equals the mean over the same configurations of NumPy's D_α with log τ_S."""
    model = jt.InhomogeneousReservoir(d, beta=50.0, g0=1.0, theta=0.3, distribution=jt.Gaussian(0.05))
    rho0 = jnp.asarray(random_state(d, np.random.default_rng(11)))
    alphas, n_steps, n_configs, seed = (0.5, 1.0, 2.0, float("inf")), 3, 64, 5
    res = jt.ensemble(model, rho0, n_steps, n_configs, seed=seed, alphas=alphas, divergence_every=1)
    got = np.asarray(res.mean_divergence)
    assert np.all(np.isfinite(got))
    idx = jnp.arange(n_configs, dtype=jnp.uint32)
    deltas = jax.jit(lambda i: sample_chunk(model.distribution, jax.random.key(seed), i, n_steps, jnp.float64))(idx)
    states = np.asarray(jax.vmap(lambda dl: jt.trajectory(model, rho0, dl).states)(deltas))
    log_t = np.asarray(log_thermal_populations(d, 50.0, 1.0))
    ref = np.array(
        [
            [np.mean([numpy_divergence_to_diagonal(s[r], log_t, a) for s in states]) for a in alphas]
            for r in range(n_steps + 1)
        ]
    )
    np.testing.assert_allclose(got, ref, rtol=1e-10)
