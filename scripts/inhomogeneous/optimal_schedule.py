"""optax finds the θ schedule θ_1…θ_N with the least work cost at a fixed final distance to τ̄ (docs/inhomogeneous.md §3, §7).

Which problem. W is the work done ON system + reservoir qudit. For the partial swap and a qubit, the mean work
of collision r is W̄_r = sin²θ_r · c(σ) with c(σ) ≥ 0 independent of the system's state (the δ_r of the qudit
is fresh, so only ⟨δ q(δ)⟩ survives; [ATO-preprint] eq. (15) to second order). So the work "extracted", −W̄_N, is
≤ 0 for every schedule and is maximised trivially by θ = 0 (no collision): that problem is ill-posed. The
well-posed one is to minimise the dissipated work W̄_N = c Σ_r sin²θ_r at a fixed final distance to τ̄. If the
distance is that of the ensemble-averaged state ρ̄_N, it depends on Π_r cos²θ_r only, and by convexity a
constant θ is optimal; the interesting distance is the one an experiment sees in a single run, that of the
frozen-configuration state ρ_{S|N}(δ_N): D_rms = (E_δ[D(ρ_{S|N}, τ̄)²])^{1/2}, D the trace distance. It adds
to the bias Π_r cos²θ_r |p_0 − q̄_0| a fluctuation term Var_G(q_0) Σ_r w_r², w_r = sin²θ_r Π_{k>r} cos²θ_k (the
weight of qudit r in the final state), which a constant θ cannot balance.

Setting: qubits, ``kind="hamiltonian"``, β = g0 = 1, G = Gaussian(σ = 0.3), N = 20, ρ_0 = diag(0.05, 0.95)
(mostly excited), target D_rms = 0.03. Loss: W̄_N / W_scale + μ (D_rms²/D*² − 1)², μ = 20, θ_r = (π/2)·sigmoid(u_r);
Adam (lr 0.3, cosine decay) from the constant schedule θ_r = 0.4 (close to the best constant at the target).
Monte Carlo through the public differentiable objective: every Adam step is ``jax.value_and_grad`` of the loss
of two ``jt.ensemble_mean`` means over the engine's configurations — W_N (``observable="total_work"``) and
D(ρ_{S|N}, τ̄)² (an observable function of the final state) — with the step number as a traced seed, so every
step draws fresh configurations (10⁵ in the full mode, 10⁴ with --quick) and the program compiles once.

Cross-checks: (i) W̄_N of every schedule by the exact quadrature route ``jt.accumulated_mean_work`` (differentiable
in the schedule); (ii) D_rms² = bias² + Var_G(q_0) Σ_r w_r² in closed form (bias from ``jt.averaged_trajectory``,
Var_G by ``Gaussian.expectation``); (iii) the same penalty problem solved on the exact objective (i)+(ii). The
baseline is the best constant θ: the constant schedule that reaches the same D_rms as the optimum (closed-form
root), whose work is compared with the optimum's.

Usage: python scripts/inhomogeneous/optimal_schedule.py [OUT_DIR] [--quick]
(default figures/inhomogeneous; the published figure, scripts/inhomogeneous/output, only when given as OUT_DIR, never with --quick)
Writes optimal_schedule.png and optimal_schedule.csv (long format: series, x, y).
"""

from __future__ import annotations

import pathlib
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from scipy.optimize import brentq

import jaxthermo as jt

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from _study import default_out, output_dir, pyplot, run_study, save_figure, twin_legend, write_series_csv

N, SIGMA, BETA, G0, P0 = 20, 0.3, 1.0, 1.0, 0.05
D_TARGET, MU = 0.03, 20.0
TRAIN_SEED, CHECK_SEED = 1000, 1  # step n of the optimisation uses the configurations of seed TRAIN_SEED + n
MODEL = jt.InhomogeneousReservoir(2, beta=BETA, g0=G0, theta=jnp.full(N, 0.4), distribution=jt.Gaussian(SIGMA))
RHO0 = jnp.diag(jnp.array([P0, 1.0 - P0])).astype(complex)
TAU_BAR = jt.averaged_reservoir_state(MODEL)
OUT = pathlib.Path(__file__).resolve().parent / "output"  # the published figure
DEFAULT_OUT = default_out(__file__)


def thetas_of(u):
    return (jnp.pi / 2) * jax.nn.sigmoid(u)


def u_of(thetas):
    x = np.asarray(thetas) / (np.pi / 2)
    return jnp.asarray(np.log(x / (1 - x)))


# ---------------------------------------------------------------- exact routes


def exact_work(thetas):
    """W̄_N by the quadrature route (exact, differentiable in the schedule)."""
    return jt.accumulated_mean_work(MODEL.replace(theta=thetas), RHO0, N)


def _q0_variance():
    q0 = lambda d: jt.thermal_populations(2, BETA, G0 * (1.0 + d))[..., 0]
    m1 = MODEL.distribution.expectation(q0)
    return MODEL.distribution.expectation(lambda d: q0(d) ** 2) - m1**2


Q0_VAR = _q0_variance()


def exact_distance2(thetas):
    """E_δ[D(ρ_{S|N}, τ̄)²] = bias² + Var_G(q_0) Σ_r w_r² (diagonal qubit, partial swap)."""
    avg = jt.averaged_trajectory(MODEL.replace(theta=thetas), RHO0, N)
    bias = jnp.real(avg.states[-1, 0, 0] - TAU_BAR[0, 0])
    c, s = jnp.cos(thetas) ** 2, jnp.sin(thetas) ** 2
    later = jnp.concatenate([jnp.cumprod(c[::-1])[::-1][1:], jnp.ones(1)])  # Π_{k>r} c_k
    return bias**2 + Q0_VAR * jnp.sum((s * later) ** 2)


W_SCALE = float(exact_work(jnp.full(N, 0.4)))


def loss_of(work, distance2):
    return work / W_SCALE + MU * (distance2 / D_TARGET**2 - 1.0) ** 2


# ---------------------------------------------------------------- Monte Carlo over frozen configurations


def squared_distance_to_tau_bar(rho, work, heat):
    """D(ρ_{S|N}, τ̄)² of one configuration (an ``observable`` of ``jt.ensemble_mean``)."""
    return jt.trace_distance(rho, TAU_BAR) ** 2


def mc_means(thetas, seed, n_configs):
    """(⟨W_N⟩, ⟨D²⟩) over the ``n_configs`` configurations of ``seed`` and their standard errors, by
    ``jt.ensemble_mean`` (differentiable in the schedule, memory flat in ``n_configs``)."""
    model = MODEL.replace(theta=thetas)
    kw = dict(seed=seed, stderr=True)
    work = jt.ensemble_mean(model, RHO0, N, n_configs, observable="total_work", **kw)
    dist2 = jt.ensemble_mean(model, RHO0, N, n_configs, observable=squared_distance_to_tau_bar, **kw)
    return jnp.stack([work.mean, dist2.mean]), jnp.stack([work.stderr, dist2.stderr])


def optimise_mc(n_configs, steps, lr=0.3):
    opt = optax.adam(optax.cosine_decay_schedule(lr, steps, 0.3))

    def loss(u, seed):
        mean, stderr = mc_means(thetas_of(u), seed, n_configs)
        return loss_of(mean[0], mean[1]), (mean, stderr)

    @jax.jit
    def step(u, state, seed):
        (_, (mean, stderr)), g_u = jax.value_and_grad(loss, has_aux=True)(u, seed)
        updates, state = opt.update(g_u, state, u)
        return optax.apply_updates(u, updates), state, mean, stderr

    u = u_of(np.full(N, 0.4))
    state = opt.init(u)
    history = []
    for n in range(steps):
        u, state, mean, stderr = step(u, state, jnp.asarray(TRAIN_SEED + n))
        d_rms = float(np.sqrt(mean[1]))  # its standard error from that of D² (first order: s.e.(D²)/2D_rms)
        history.append([n, float(mean[0]), float(stderr[0]), d_rms, float(stderr[1]) / (2 * d_rms)])
    return thetas_of(u), np.array(history)


def optimise_exact(steps=1000, lr=0.3):
    opt = optax.adam(optax.cosine_decay_schedule(lr, steps, 0.1))
    loss = lambda u: loss_of(exact_work(thetas_of(u)), exact_distance2(thetas_of(u)))

    @jax.jit
    def run(u):
        def step(carry, _):
            u, state = carry
            updates, state = opt.update(jax.grad(loss)(u), state, u)
            return (optax.apply_updates(u, updates), state), None

        (u, _), _ = jax.lax.scan(step, (u, opt.init(u)), None, length=steps)
        return thetas_of(u)

    return run(u_of(np.full(N, 0.4)))


def best_constant(distance):
    """The constant θ whose exact D_rms equals ``distance`` (the larger root: less work)."""
    d2 = jax.jit(lambda t: exact_distance2(jnp.full(N, t)))
    grid = np.linspace(0.05, 1.5, 300)
    values = np.sqrt(np.array([float(d2(t)) for t in grid]))
    i = int(np.argmin(values))
    if values[i] > distance:
        raise ValueError(f"no constant θ reaches D_rms = {distance:.4g} (minimum {values[i]:.4g})")
    return brentq(lambda t: float(np.sqrt(d2(t))) - distance, grid[0], grid[i], xtol=1e-13)


def main(out_dir=DEFAULT_OUT, quick=False):
    t0 = time.perf_counter()
    out = output_dir(out_dir)
    n_configs, steps = (10_000, 60) if quick else (100_000, 100)
    th_mc, history = optimise_mc(n_configs, steps)
    th_exact = optimise_exact(300 if quick else 1000)
    d_mc = float(jnp.sqrt(exact_distance2(th_mc)))
    th_const = best_constant(d_mc)
    const = jnp.full(N, th_const)
    # independent evaluation sample (seed 1) for the Monte Carlo numbers
    check = lambda th: mc_means(th, CHECK_SEED, 100_000 if not quick else 20_000)
    res = {"n_configs_per_step": n_configs, "steps": steps}
    for name, th in (("optimum_mc", th_mc), ("optimum_exact", th_exact), ("best_constant", const)):
        mean, stderr = check(th)
        res[name] = {
            "work_exact": float(exact_work(th)),
            "work_mc": float(mean[0]),
            "work_mc_stderr": float(stderr[0]),
            "d_rms_exact": float(jnp.sqrt(exact_distance2(th))),
            "d_rms_mc": float(np.sqrt(mean[1])),
        }
    res["best_constant_theta"] = float(th_const)
    res["work_saving"] = 1.0 - res["optimum_mc"]["work_exact"] / res["best_constant"]["work_exact"]
    rows = [("history work_mc", h[0], h[1]) for h in history] + [("history d_rms_mc", h[0], h[3]) for h in history]
    for name, th in (("theta optimum_mc", th_mc), ("theta optimum_exact", th_exact), ("theta best_constant", const)):
        rows += [(name, r + 1, float(t)) for r, t in enumerate(np.asarray(th))]
    write_series_csv(out / "optimal_schedule.csv", rows)
    _plot(out, history, th_mc, th_exact, th_const, res)
    res["seconds"] = time.perf_counter() - t0
    return res


def _plot(out, history, th_mc, th_exact, th_const, res):
    plt = pyplot()

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.3))
    r = np.arange(1, N + 1)
    # each schedule's exact W̄_N in its label: the Monte-Carlo optimum's early angles (~0.06 rad against ~0.01) sit
    # where the objective is flat (sin²θ_r ~ 10⁻³ of work each, weight ~0 in the final state): Adam's noise floor
    w = {k: res[k]["work_exact"] for k in ("optimum_mc", "optimum_exact")}
    ax1.plot(
        r,
        np.asarray(th_mc),
        "o-",
        label=f"optax, Monte Carlo ({res['n_configs_per_step']:,} configurations/step): W̄_N = {w['optimum_mc']:.4f}",
    )
    ax1.plot(
        r,
        np.asarray(th_exact),
        "s--",
        mfc="none",
        label=f"optax, exact objective (quadrature + closed form): W̄_N = {w['optimum_exact']:.4f}",
    )
    ax1.axhline(th_const, color="k", ls=":", label=f"best constant θ = {th_const:.3f}")
    ax1.set_xticks(np.arange(2, N + 1, 2))
    ax1.set_xlabel("collision r")
    ax1.set_ylabel("mixing angle θ_r (rad)")
    w_opt, w_c = res["optimum_mc"]["work_exact"], res["best_constant"]["work_exact"]
    ax1.set_title(
        f"W̄_N: optimum {w_opt:.4f} vs constant {w_c:.4f} (g0), at D_rms = {res['optimum_mc']['d_rms_exact']:.4f}",
        fontsize=9,
    )
    top = float(max(np.max(np.asarray(th_mc)), np.max(np.asarray(th_exact)), th_const))
    ax1.set_ylim(-0.05 * top, 1.4 * top)  # room above the curves for the legend (it covered the peak)
    ax1.legend(fontsize=7, title="W̄_N: exact work of each schedule (g0)", title_fontsize=7, loc="upper left")
    ax2.errorbar(history[:, 0], history[:, 1], yerr=history[:, 2], color="C0", label="W̄_N (Monte Carlo ± s.e.)")
    ax2.set_xlabel("optax Adam step")
    ax2.set_ylabel("mean work cost W̄_N on system + reservoir (units of g0)", color="C0", fontsize=9)
    ax3 = ax2.twinx()
    ax3.errorbar(history[:, 0], history[:, 3], yerr=history[:, 4], color="C1", label="D_rms (Monte Carlo ± s.e.)")
    ax3.axhline(D_TARGET, color="C1", ls=":", label=f"target D_rms = {D_TARGET}")
    ax3.set_ylabel("D_rms = (E[D(ρ_S|N, τ̄)²])^½", color="C1", fontsize=9)
    twin_legend(ax2, ax3, fontsize=8, loc="upper right")
    ax2.set_title("optimisation history (fresh configurations every step)", fontsize=9)
    fig.suptitle(
        f"Model A, qubits: N = {N}, Gaussian σ = {SIGMA}, βg0 = {BETA * G0:g}, ρ_0 = diag({P0}, {1 - P0:g}); "
        f"penalty μ = {MU:g}",
        fontsize=10,
    )
    save_figure(fig, out / "optimal_schedule.png")


if __name__ == "__main__":
    run_study(main, DEFAULT_OUT, OUT)
