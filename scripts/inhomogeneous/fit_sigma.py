"""Fit the inhomogeneity σ to a "measured" histogram of the accumulated work W_N (docs/inhomogeneous.md §6, docs/ensemble.md).

Data: ``jt.ensemble`` at a known σ_true = 0.2 (qubits, ``kind="hamiltonian"``, Gaussian G, β = g0 = 1, θ = 0.3,
N = 10 collisions, ρ_0 = diag(0.1, 0.9)), 10⁵ configurations (2·10⁴ with --quick), seed 7: only its W_N
histogram (200 fixed bins on [−0.6, 0.6]) is used.

Fit: generalised moment matching on (mean, variance) of W_N. The measured moments come from the histogram
(bin centres, Sheppard's h²/12 removed from the variance); their covariance from the histogram's own central
moments (Var(mean) = m2/n, Var(m2) = (m4 − m2²)/n, Cov = m3/n). The model moments are the public differentiable
ensemble objective: ``jt.ensemble_mean`` of W_N, W_N², W_N³, W_N⁴ over M configurations of the engine's
another seed (2024), so the same configurations at every σ (common random numbers: the engine draws δ = σε,
reparameterised, so the means are differentiable in σ); their sampling covariance is added to the data's.
optax (Adam on log σ, ``jax.value_and_grad`` of χ² through ``jt.ensemble_mean``) minimises χ²(σ) = rᵀC⁻¹r;
three Newton steps on the same exact gradient finish the minimisation (Adam's decayed steps stop short of it).
Error bar: Fisher, se(σ) = (JᵀC⁻¹J)^{−1/2} with J = ∂(mean, var)/∂σ by ``jax.jacfwd`` of the same objective;
the χ² profile's Δχ² = 1 interval is shown too.
Cross-check: the model's mean W̄_N at the fit against the exact quadrature route ``jt.accumulated_mean_work``.

Usage: python scripts/inhomogeneous/fit_sigma.py [OUT_DIR] [--quick]
(default figures/inhomogeneous; the published figure, scripts/inhomogeneous/output, only when given as OUT_DIR, never with --quick)
Writes fit_sigma.png and fit_sigma.csv (long format: series, x, y).
"""

from __future__ import annotations

import pathlib
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import jaxthermo as jt

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from _study import default_out, output_dir, pyplot, run_study, save_figure, write_series_csv

SIGMA_TRUE, N, THETA, BETA, G0 = 0.2, 10, 0.3, 1.0, 1.0
RANGE, BINS = (-0.6, 0.6), 200
SIGMA_START = 0.05
NEWTON_STEPS, NEWTON_H = 3, 1e-4  # the Newton polish after Adam (on log σ)
DATA_SEED, MODEL_SEED = 7, 2024
MODEL = jt.InhomogeneousReservoir(2, beta=BETA, g0=G0, theta=THETA, distribution=jt.Gaussian(SIGMA_TRUE))
RHO0 = jnp.diag(jnp.array([0.1, 0.9])).astype(complex)
OUT = pathlib.Path(__file__).resolve().parent / "output"  # the published figure
DEFAULT_OUT = default_out(__file__)


def measure(n_configs, seed=DATA_SEED):
    """The data: the W_N histogram of an engine run at σ_true."""
    return work_histogram(MODEL, n_configs, seed)


def work_histogram(model, n_configs, seed):
    """The W_N histogram (fixed bins) of an engine run (no divergences: only W_N is used)."""
    return jt.ensemble(model, RHO0, N, n_configs, seed=seed, alphas=(), work_bins=BINS, work_range=RANGE).work_histogram


def histogram_moments(hist):
    """(mean, var) of W_N from bin centres (Sheppard-corrected) and their 2×2 covariance."""
    if hist.underflow or hist.overflow:
        raise ValueError(f"values outside the histogram range: {hist.underflow} below, {hist.overflow} above")
    counts, centers = np.asarray(hist.counts, float), np.asarray(hist.centers)
    n, h = counts.sum(), float(np.mean(np.diff(hist.edges)))
    mean = np.sum(counts * centers) / n
    m2, m3, m4 = (np.sum(counts * (centers - mean) ** k) / n for k in (2, 3, 4))
    cov = np.array([[m2, m3], [m3, m4 - m2**2]]) / n
    return np.array([mean, m2 - h**2 / 12]), cov, int(n)


def _work_power(k):
    return lambda rho, w, q: w**k


# observables W_N^k of one configuration (module-level objects: jt.ensemble_mean compiles each once)
WORK_POWERS = ("total_work", _work_power(2), _work_power(3), _work_power(4))


def model_moments(sigma, m, seed=MODEL_SEED):
    """(mean, unbiased variance) of W_N at σ over m configurations of ``seed`` and their 2×2 sampling
    covariance, from the raw moments ⟨W_N^k⟩ (k = 1…4) by ``jt.ensemble_mean`` — differentiable in σ."""
    model = MODEL.replace(distribution=jt.Gaussian(sigma))
    r1, r2, r3, r4 = (jt.ensemble_mean(model, RHO0, N, m, seed=seed, observable=f) for f in WORK_POWERS)
    m2 = r2 - r1**2
    m3 = r3 - 3 * r1 * r2 + 2 * r1**3
    m4 = r4 - 4 * r1 * r3 + 6 * r1**2 * r2 - 3 * r1**4
    cov = jnp.array([[m2, m3], [m3, m4 - m2**2]]) / m
    return jnp.array([r1, m2 * m / (m - 1)]), cov


def main(out_dir=DEFAULT_OUT, quick=False):
    t0 = time.perf_counter()
    out = output_dir(out_dir)
    n_data, m_model, steps = (20_000, 10_000, 80) if quick else (100_000, 50_000, 150)
    hist = measure(n_data)
    data, cov_data, n = histogram_moments(hist)

    def chi2(log_sigma):
        moments, cov_model = model_moments(jnp.exp(log_sigma), m_model)
        r = moments - data
        return r @ jnp.linalg.solve(cov_data + cov_model, r)

    opt = optax.adam(optax.cosine_decay_schedule(0.15, steps, 0.05))
    # one compiled program for Adam, the Newton polish and the χ² profile (a scan, a grad and a jit of χ² were
    # three compilations of the engine: most of the --quick run's time)
    value_and_grad = jax.jit(jax.value_and_grad(chi2))
    log_sigma = jnp.log(SIGMA_START)
    state, path_sigma = opt.init(log_sigma), []
    for _ in range(steps):
        path_sigma.append(float(jnp.exp(log_sigma)))
        updates, state = opt.update(value_and_grad(log_sigma)[1], state, log_sigma)
        log_sigma = optax.apply_updates(log_sigma, updates)
    adam_sigma = float(jnp.exp(log_sigma))

    # Adam's last steps (learning rate decayed to 0.0075 on log σ) stop short of the minimum (by 0.7 Fisher
    # s.e. in --quick mode: the band was not centred on the χ² profile's minimum); a few Newton steps on
    # the smooth one-parameter χ² (exact gradient, its derivative by central differences) finish it
    def grad(x):
        return value_and_grad(x)[1]

    for _ in range(NEWTON_STEPS):
        curvature = (grad(log_sigma + NEWTON_H) - grad(log_sigma - NEWTON_H)) / (2 * NEWTON_H)
        if not curvature > 0:
            break
        log_sigma = log_sigma - grad(log_sigma) / curvature
    sigma = float(jnp.exp(log_sigma))
    jac = np.asarray(jax.jacfwd(lambda s: model_moments(s, m_model)[0])(sigma))
    cov_total = cov_data + np.asarray(model_moments(sigma, m_model)[1])
    fisher_se = float(1.0 / np.sqrt(jac @ np.linalg.solve(cov_total, jac)))
    grid = np.linspace(max(sigma - 5 * fisher_se, 1e-3), sigma + 5 * fisher_se, 41)
    profile = np.array([float(value_and_grad(jnp.log(s))[0]) for s in grid])
    inside = grid[profile <= profile.min() + 1.0]
    model_at_fit = model_moments(sigma, m_model)[0]
    res = {
        "sigma_true": SIGMA_TRUE,
        "sigma_fit": sigma,
        "sigma_adam": adam_sigma,
        "fisher_se": fisher_se,
        "profile_interval": (float(inside.min()), float(inside.max())),
        "pull": (sigma - SIGMA_TRUE) / fisher_se,
        "chi2_min": float(value_and_grad(log_sigma)[0]),
        "n_data": n,
        "m_model": m_model,
        "measured_mean_var": data.tolist(),
        "model_mean_at_fit": float(model_at_fit[0]),
        "exact_mean_at_fit": float(jt.accumulated_mean_work(MODEL.replace(distribution=jt.Gaussian(sigma)), RHO0, N)),
    }
    density_fit = work_histogram(MODEL.replace(distribution=jt.Gaussian(sigma)), n, MODEL_SEED).density
    rows = [("data density", x, y) for x, y in zip(hist.centers, hist.density)]
    rows += [("model density at fit", x, y) for x, y in zip(hist.centers, density_fit)]
    rows += [("chi2 profile", x, y) for x, y in zip(grid, profile)]
    rows += [("optax sigma", k, float(s)) for k, s in enumerate(np.asarray(path_sigma))]
    write_series_csv(out / "fit_sigma.csv", rows)
    _plot(out, hist, density_fit, grid, profile, np.asarray(path_sigma), res)
    res["seconds"] = time.perf_counter() - t0
    return res


def _plot(out, hist, density_fit, grid, profile, path_sigma, res):
    plt = pyplot()

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(14, 4.2))
    ax1.stairs(
        hist.density,
        hist.edges,
        fill=True,
        color="0.75",
        label=f"measured: {res['n_data']:,} configurations at σ = {SIGMA_TRUE}",
    )
    ax1.plot(
        hist.centers,
        density_fit,
        color="C3",
        lw=1.2,
        label=f"model at fitted σ = {res['sigma_fit']:.4f}\n(histogram of {res['n_data']:,} configurations, seed {MODEL_SEED})",
    )
    ax1.set_ylim(0, 1.4 * max(hist.density.max(), density_fit.max()))
    nonzero = np.nonzero(hist.counts)[0]
    ax1.set_xlim(hist.edges[max(nonzero[0] - 3, 0)], hist.edges[min(nonzero[-1] + 4, len(hist.edges) - 1)])
    ax1.set_xlabel("accumulated work W_N on system + reservoir (units of g0)")
    ax1.set_ylabel("probability density (1/g0)")
    ax1.legend(fontsize=8, loc="upper left")
    ax1.set_title(f"W_N histogram, N = {N}", fontsize=10)
    ax2.plot(grid, profile - profile.min(), "C0")
    lo, hi = res["profile_interval"]  # the Δχ² = 1 interval itself (only the level was drawn, the interval printed)
    ax2.axhline(1.0, color="k", ls=":", lw=0.8)
    ax2.plot([lo, hi], [1.0, 1.0], color="k", lw=2.5, label=f"Δχ² = 1 interval [{lo:.4f}, {hi:.4f}]")
    # the vertical marks end below the legend's strip at the top (the legend covered the true-σ line)
    top = 0.6
    ax2.axvline(SIGMA_TRUE, ymax=top, color="k", ls="--", label=f"true σ = {SIGMA_TRUE}")
    ax2.axvline(res["sigma_fit"], ymax=top, color="C3", lw=1.0)
    ax2.axvspan(
        res["sigma_fit"] - res["fisher_se"],
        res["sigma_fit"] + res["fisher_se"],
        ymax=top,
        color="C3",
        alpha=0.2,
        label=f"fit ± Fisher s.e. = {res['sigma_fit']:.4f} ± {res['fisher_se']:.4f}",
    )
    ax2.set_xlabel("σ of the Gaussian inhomogeneity G")
    ax2.set_ylabel("χ²(σ) − χ²_min (mean and variance of W_N)")
    span = np.ptp(profile)
    ax2.set_ylim(-0.03 * span, 0.97 * span / (top - 0.03))  # the profile's top at the marks' top
    ax2.legend(fontsize=8, loc="upper center", framealpha=1.0)
    ax2.set_title("moment-matching profile", fontsize=10)
    ax3.plot(path_sigma, "C0", label="Adam")
    ax3.plot(
        [len(path_sigma)], [res["sigma_fit"]], "o", color="C3", ms=4, label=f"+ {NEWTON_STEPS} Newton steps: the fit"
    )
    ax3.axhline(SIGMA_TRUE, color="k", ls="--", label="true σ")
    ax3.set_xlabel("optax Adam step (on log σ)")
    ax3.set_ylabel("σ")
    ax3.legend(fontsize=8)
    ax3.set_title(f"optimisation from σ = {SIGMA_START}", fontsize=10)
    fig.suptitle(
        f"Model A, qubits: θ = {THETA}, βg0 = {BETA * G0:g}, ρ_0 = diag(0.1, 0.9); the fit's model moments from "
        f"{res['m_model']:,} configurations on common random numbers (jt.ensemble_mean, differentiable in σ)",
        fontsize=10,
    )
    save_figure(fig, out / "fit_sigma.png")


if __name__ == "__main__":
    run_study(main, DEFAULT_OUT, OUT)
