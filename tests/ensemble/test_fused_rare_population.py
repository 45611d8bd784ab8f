"""The fused qubit path keeps the population that τ_S makes rare to its relative precision (docs/ensemble.md §2).

A cold τ_S (β g0 = 100: t1 = e^{−100}) makes D_α(ρ‖τ_S) depend on p1/t1 with p1 far below ε. The engine
carried (p0, x, y) and recomputed p1 = 1 − p0, which rounds every p1 < ε/2 to 0: with the system relaxed
to τ(δ = −½) (p1 ≈ e^{−50}) it reported D_2 = 0 and D_∞ = 0 instead of log 2 and 50 (CPU program and GPU
tile kernel alike). Here the engine's per-step means of D_α (α = ½, 1, 2, ∞), its mean state and the
divergence of its mean state are compared with :func:`jaxthermo.divergences_to_thermal` on states
propagated by another route: the two-qubit unitary U = cos θ 1 + i sin θ S applied to ρ ⊗ τ(δ_r) and the
reservoir traced out, in 40-digit decimal arithmetic, over the engine's own δ's. The mirror (β g0 = −100,
the ground level rare) is checked the same way.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble._sampling import sample_chunk
from tests.helpers import model_a_chunk_run

ALPHAS = (0.5, 1.0, 2.0, math.inf)
N_STEPS, N_COUNTED, SEED, THETA = 30, 16, 2, 1.2


def _model(beta):
    return jt.InhomogeneousReservoir(2, beta, 1.0, THETA, distribution=jt.TwoPoint(0.5))


def _rho0(coherent):
    c = 0.3 + 0.2j if coherent else 0.0
    return np.array([[0.6, c], [np.conj(c), 0.4]], dtype=np.complex128)


def _cmul(a, b):
    return (a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0])


def _matmul(a, b):
    n = len(a)
    zero = (Decimal(0), Decimal(0))
    out = []
    for i in range(n):
        row = []
        for j in range(n):
            acc = zero
            for k in range(n):
                p = _cmul(a[i][k], b[k][j])
                acc = (acc[0] + p[0], acc[1] + p[1])
            row.append(acc)
        out.append(row)
    return out


def _propagate(rho0, deltas, beta, g0, theta):
    """ρ_S after each collision (N, 2, 2) complex128: Tr_R[U (ρ ⊗ τ(δ_r)) U†], U = cos θ 1 + i sin θ S
    (docs/conventions.md), τ(δ) = diag(1, e^{−β g0 (1 + δ)})/Z, all in 40-digit decimals."""
    with localcontext() as ctx:
        ctx.prec = 40
        zero = Decimal(0)
        c, s = Decimal(math.cos(theta)), Decimal(math.sin(theta))
        swap = [[1 if (i // 2, i % 2) == (j % 2, j // 2) else 0 for j in range(4)] for i in range(4)]
        u = [[(c * (i == j), s * swap[i][j]) for j in range(4)] for i in range(4)]
        u_dag = [[(u[j][i][0], -u[j][i][1]) for j in range(4)] for i in range(4)]
        rho = [[(Decimal(float(rho0[i, j].real)), Decimal(float(rho0[i, j].imag))) for j in range(2)] for i in range(2)]
        out = []
        for delta in deltas:
            e = (-Decimal(beta) * Decimal(g0) * (1 + Decimal(float(delta)))).exp()
            tau = (1 / (1 + e), e / (1 + e))
            # ρ ⊗ τ, index 2a + b (a the system, b the reservoir qubit)
            x = [
                [
                    (rho[i // 2][j // 2][0] * tau[i % 2], rho[i // 2][j // 2][1] * tau[i % 2])
                    if i % 2 == j % 2
                    else (zero, zero)
                    for j in range(4)
                ]
                for i in range(4)
            ]
            y = _matmul(_matmul(u, x), u_dag)
            rho = [
                [tuple(y[2 * i][2 * j][k] + y[2 * i + 1][2 * j + 1][k] for k in range(2)) for j in range(2)]
                for i in range(2)
            ]
            out.append([[complex(float(v[0]), float(v[1])) for v in row] for row in rho])
        return np.array(out)


def _reference(model, rho0, coherent, n):
    """Per-step means over configurations 0…n − 1 (the engine's δ's): D_α of each state by the reference,
    the mean state (N, 2, 2) and the reference D_α of the mean state."""
    deltas = np.asarray(
        sample_chunk(model.distribution, jax.random.key(SEED), jnp.arange(n, dtype=jnp.uint32), N_STEPS, jnp.float64)
    )
    states = np.stack([_propagate(rho0, d, model.beta, model.g0, model.theta) for d in deltas])  # (n, N, 2, 2)
    div = np.asarray(jt.divergences_to_thermal(jnp.asarray(states), model.beta, model.g0, ALPHAS, quantum=coherent))
    mean_state = states.mean(axis=0)
    mean_div = np.asarray(
        jt.divergences_to_thermal(jnp.asarray(mean_state), model.beta, model.g0, ALPHAS, quantum=coherent)
    )
    return div.mean(axis=0), mean_state, np.abs(states).mean(axis=0), mean_div


def _engine(model, rho0, coherent, route):
    if route == "cpu":
        res = jt.ensemble(model, jnp.asarray(rho0), N_STEPS, N_COUNTED, SEED, alphas=ALPHAS, coherent=coherent)
        # the result's rows are r = 0…N
        return (np.asarray(getattr(res, f))[1:] for f in ("mean_divergence", "mean_state", "mean_state_divergence"))
    mask = jnp.arange(128) < N_COUNTED  # one tile, the first N_COUNTED configurations counted
    edges = jnp.linspace(-1.0, 1.0, 9)
    stats = model_a_chunk_run(
        model, jnp.asarray(rho0), edges, mask, n_steps=N_STEPS, alphas=ALPHAS, coherent=coherent, tiled=True, seed=SEED
    )
    mean_state = np.asarray(stats["state"].mean)
    mean_div = np.asarray(
        jt.divergences_to_thermal(jnp.asarray(mean_state), model.beta, model.g0, ALPHAS, quantum=coherent)
    )
    return np.asarray(stats["divergence"].mean), mean_state, mean_div


@pytest.mark.filterwarnings("ignore:beta=-100.0. a negative temperature")
@pytest.mark.parametrize("route", ["cpu", "tile"])
@pytest.mark.parametrize("coherent", [False, True])
@pytest.mark.parametrize("beta", [100.0, -100.0])
def test_cold_tau_divergences_and_mean_state(beta, coherent, route):
    """β g0 = ±100, δ = ±½, θ = 1.2 from ρ0 = (0.6, 0.4) (coherent: ρ_01 = 0.3 + 0.2i): the rare population
    falls from 0.4 to ~e^{−50} over the 30 collisions. Before, for β g0 = 100, the CPU program and the tile
    kernel drifted from r = 11 on (p1 ~ 10⁻¹⁵: D_2 10⁻⁸ relative) and were off by up to 26 (D_∞) once p1
    rounded to 0, the mean state's ρ_11 then 0 (diagonal and coherent alike); the mirror was already right
    (the old (p0, x, y) carried the rare p0) and guards the choice of the carried level."""
    model = _model(beta)
    rho0 = _rho0(coherent)
    ref_div, ref_state, state_scale, ref_mean_div = _reference(model, rho0, coherent, N_COUNTED)
    div, mean_state, mean_div = _engine(model, rho0, coherent, route)
    rare = (1, 1) if beta > 0 else (0, 0)
    assert ref_state[-1][rare].real < 1e-20 and np.max(ref_div[-1]) > 10  # the regime of the defect
    np.testing.assert_allclose(div, ref_div, rtol=1e-9, atol=1e-12)
    # every entry of the mean state to its own scale (the rare population to ~1e-9 relative)
    assert np.all(np.abs(mean_state - ref_state) <= 1e-9 * state_scale + 1e-300)
    np.testing.assert_allclose(mean_div, ref_mean_div, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("coherent", [False, True])
def test_cold_tau_sensitivities_through_the_carried_population(coherent):
    """``wrt=("theta",)`` runs the same collision under ``jax.jvp``: d⟨D_α⟩/dθ and dρ̄/dθ at β g0 = 100
    against central differences (h = 10⁻⁵) of the decimal route above. Before, dD_2/dθ and dD_∞/dθ were off
    from r = 13 on, by up to 228 where p1 had rounded to 0."""
    model = _model(100.0)
    rho0 = _rho0(coherent)
    res = jt.ensemble(
        model, jnp.asarray(rho0), N_STEPS, N_COUNTED, SEED, alphas=ALPHAS, coherent=coherent, wrt=("theta",)
    )
    sens = res.sensitivity["theta"]
    h = 1e-5
    plus = _reference(model.replace(theta=THETA + h), rho0, coherent, N_COUNTED)
    minus = _reference(model.replace(theta=THETA - h), rho0, coherent, N_COUNTED)
    fd_div = (plus[0] - minus[0]) / (2 * h)
    fd_state = (plus[1] - minus[1]) / (2 * h)
    assert np.max(np.abs(fd_div[-1])) > 1.0  # D_2, D_∞ move with θ where p1 ~ e^{−50}
    np.testing.assert_allclose(np.asarray(sens.mean_divergence)[1:], fd_div, rtol=1e-5, atol=1e-8)
    # the rare population's derivative to its own scale (~1e-22 at the end)
    np.testing.assert_allclose(np.asarray(sens.mean_state)[1:, 1, 1].real, fd_state[:, 1, 1].real, rtol=1e-5)


@pytest.mark.parametrize("coherent", [False, True])
def test_cold_tau_float32(coherent):
    """float32 (ε ≈ 1.2·10⁻⁷) at β g0 = 40: p1 falls to ~e^{−20} ≈ 2·10⁻⁹, which 1 − p0 carried only to ~ε
    (before: D_2 and D_∞ off from r = 5 on, by up to 7.4); the carried p1 keeps it. Against the decimal
    route, to float32 rounding; float32 in, float32 out."""
    model = _model(40.0)
    rho0 = _rho0(coherent)
    ref_div, ref_state, state_scale, _ = _reference(model, rho0, coherent, N_COUNTED)
    res = jt.ensemble(
        model, jnp.asarray(rho0, jnp.complex64), N_STEPS, N_COUNTED, SEED, alphas=ALPHAS, coherent=coherent
    )
    div, mean_state = np.asarray(res.mean_divergence)[1:], np.asarray(res.mean_state)[1:]
    assert div.dtype == np.float32 and mean_state.dtype == np.complex64
    assert ref_state[-1][1, 1].real < 1e-8 and np.max(ref_div[-1]) > 10
    np.testing.assert_allclose(div, ref_div, rtol=2e-5, atol=1e-5)
    assert np.all(np.abs(mean_state - ref_state) <= 2e-5 * state_scale + 1e-37)


def test_float32_population_has_the_exact_fixed_point():
    """u' = c²u + s²w had c² + s² ≠ 1 by ~ε, so in float32 its fixed point was off by ~ε/sin²θ: θ = 0.003,
    3·10⁴ collisions, mean p0 0.744696 for the float64 run's 0.745091 (helper-57's reproducer). Now
    u' = u − s²(u − w): the float32 run within 1e-6 of the float64 one (same configurations)."""
    import jaxthermo as jt

    theta = float(np.float32(0.003))
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, theta=theta, distribution=jt.Gaussian(0.2))
    rho0 = np.diag([0.75, 0.25])
    r32 = jt.ensemble(model, rho0, 30000, 64, dtype=jnp.float32, alphas=())
    r64 = jt.ensemble(model, rho0, 30000, 64, alphas=())
    p32, p64 = (np.real(np.asarray(r.mean_state)[:, 0, 0]) for r in (r32, r64))
    assert np.max(np.abs(p32 - p64)) < 1e-6
