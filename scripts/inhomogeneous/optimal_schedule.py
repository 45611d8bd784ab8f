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
Monte Carlo: every Adam step draws fresh configurations (10⁵ in the full mode, 10⁴ with --quick; jt.trajectory
vmapped in chunks, reparameterised δ = σε from ``Gaussian.sample``), and differentiates the two means.

Cross-checks: (i) W̄_N of every schedule by the exact quadrature route ``jt.accumulated_mean_work`` (differentiable
in the schedule); (ii) D_rms² = bias² + Var_G(q_0) Σ_r w_r² in closed form (bias from ``jt.averaged_trajectory``,
Var_G by ``Gaussian.expectation``); (iii) the same penalty problem solved on the exact objective (i)+(ii). The
baseline is the best constant θ: the constant schedule that reaches the same D_rms as the optimum (closed-form
root), whose work is compared with the optimum's.

Usage: python scripts/inhomogeneous/optimal_schedule.py [OUT_DIR] [--quick]   (default scripts/inhomogeneous/output)
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

N, SIGMA, BETA, G0, P0 = 20, 0.3, 1.0, 1.0, 0.05
D_TARGET, MU = 0.03, 20.0
CHUNK = 25_000
MODEL = jt.InhomogeneousReservoir(2, beta=BETA, g0=G0, theta=jnp.full(N, 0.4), distribution=jt.Gaussian(SIGMA))
RHO0 = jnp.diag(jnp.array([P0, 1.0 - P0])).astype(complex)
TAU_BAR = jt.averaged_reservoir_state(MODEL)
OUT = pathlib.Path(__file__).resolve().parent / "output"


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


def _member(thetas, deltas):
    traj = jt.trajectory(MODEL.replace(theta=thetas), RHO0, deltas)
    return jnp.stack([jnp.sum(traj.work), jt.trace_distance(traj.states[-1], TAU_BAR) ** 2])


def mc_means(thetas, key, n_configs):
    """Means of (W_N, D²) over n_configs fresh configurations, their Jacobians in θ (2, N), and the
    per-configuration second moments (for standard errors); chunked with lax.map."""
    n_chunks = max(n_configs // CHUNK, 1)
    size = n_configs // n_chunks

    def chunk(k):
        deltas = MODEL.distribution.sample(jax.random.fold_in(key, k), (size, N))
        f = lambda th: jnp.mean(jax.vmap(_member, in_axes=(None, 0))(th, deltas), axis=0)
        values = jax.vmap(_member, in_axes=(None, 0))(thetas, deltas)
        return jnp.mean(values, 0), jnp.mean(values**2, 0), jax.jacrev(f)(thetas)

    m, m2, jac = jax.lax.map(chunk, jnp.arange(n_chunks))
    mean = jnp.mean(m, 0)
    stderr = jnp.sqrt(jnp.maximum(jnp.mean(m2, 0) - mean**2, 0.0) / (n_chunks * size - 1))
    return mean, stderr, jnp.mean(jac, 0)


def optimise_mc(n_configs, steps, seed=0, lr=0.3):
    opt = optax.adam(optax.cosine_decay_schedule(lr, steps, 0.3))

    @jax.jit
    def step(u, state, key):
        thetas = thetas_of(u)
        mean, stderr, jac = mc_means(thetas, key, n_configs)
        # chain rule through the loss of the two means, then through θ(u)
        dl = jax.grad(lambda m: loss_of(m[0], m[1]))(mean)
        g_theta = dl @ jac
        _, vjp = jax.vjp(thetas_of, u)
        (g_u,) = vjp(g_theta)
        updates, state = opt.update(g_u, state, u)
        return optax.apply_updates(u, updates), state, mean, stderr

    u = u_of(np.full(N, 0.4))
    state = opt.init(u)
    history = []
    for n in range(steps):
        u, state, mean, stderr = step(u, state, jax.random.fold_in(jax.random.PRNGKey(seed), n))
        history.append([n, float(mean[0]), float(stderr[0]), float(np.sqrt(mean[1]))])
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


def main(out_dir=OUT, quick=False):
    t0 = time.perf_counter()
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n_configs, steps = (10_000, 60) if quick else (100_000, 100)
    th_mc, history = optimise_mc(n_configs, steps)
    th_exact = optimise_exact(300 if quick else 1000)
    d_mc = float(jnp.sqrt(exact_distance2(th_mc)))
    th_const = best_constant(d_mc)
    const = jnp.full(N, th_const)
    # independent evaluation sample (seed 1) for the Monte Carlo numbers
    check = jax.jit(lambda th: mc_means(th, jax.random.PRNGKey(1), 100_000 if not quick else 20_000)[:2])
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
    with open(out / "optimal_schedule.csv", "w") as f:
        f.write("series,x,y\n")
        f.writelines(f"{s},{x:.12g},{y:.12g}\n" for s, x, y in rows)
    _plot(out, history, th_mc, th_exact, th_const, res)
    res["seconds"] = time.perf_counter() - t0
    return res


def _plot(out, history, th_mc, th_exact, th_const, res):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.3))
    r = np.arange(1, N + 1)
    ax1.plot(r, np.asarray(th_mc), "o-", label=f"optax, Monte Carlo ({res['n_configs_per_step']:.0e} configs/step)")
    ax1.plot(r, np.asarray(th_exact), "s--", mfc="none", label="optax, exact objective (quadrature + closed form)")
    ax1.axhline(th_const, color="k", ls=":", label=f"best constant θ = {th_const:.3f}")
    ax1.set_xlabel("collision r")
    ax1.set_ylabel("mixing angle θ_r (rad)")
    w_opt, w_c = res["optimum_mc"]["work_exact"], res["best_constant"]["work_exact"]
    ax1.set_title(
        f"W̄_N: optimum {w_opt:.4f} vs constant {w_c:.4f} (g0), at D_rms = {res['optimum_mc']['d_rms_exact']:.4f}",
        fontsize=9,
    )
    ax1.legend(fontsize=8)
    ax2.errorbar(history[:, 0], history[:, 1], yerr=history[:, 2], color="C0", label="W̄_N (Monte Carlo ± s.e.)")
    ax2.set_xlabel("optax Adam step")
    ax2.set_ylabel("mean work cost W̄_N on system + reservoir (units of g0)", color="C0", fontsize=9)
    ax3 = ax2.twinx()
    ax3.plot(history[:, 0], history[:, 3], color="C1", label="D_rms (Monte Carlo)")
    ax3.axhline(D_TARGET, color="C1", ls=":", label=f"target D_rms = {D_TARGET}")
    ax3.set_ylabel("D_rms = (E[D(ρ_S|N, τ̄)²])^½", color="C1", fontsize=9)
    h1, l1 = ax2.get_legend_handles_labels()
    h2, l2 = ax3.get_legend_handles_labels()
    ax2.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper right")
    ax2.set_title("optimisation history (fresh configurations every step)", fontsize=9)
    fig.suptitle(
        f"Model A, qubits: N = {N}, Gaussian σ = {SIGMA}, βg0 = {BETA * G0:g}, ρ_0 = diag({P0}, {1 - P0:g}); "
        f"penalty μ = {MU:g}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(out / "optimal_schedule.png", dpi=130)
    plt.close(fig)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    res = main(args[0] if args else OUT, quick="--quick" in sys.argv)
    for k, v in res.items():
        print(k, v)
