"""``jaxthermo demo``: a model-A ensemble on the embedded default, through the ensemble engine.

Qubit, βg0 = 1, Hamiltonian inhomogeneity δ ~ Gaussian(σ = 0.05), partial swap θ = 0.1, N = 100
collisions, 10⁴ configurations, the system starting in its thermal state τ_S (docs/inhomogeneous.md:
the mean state relaxes to τ̄, so every second law is violated, β ΔF_α = D_α(ρ̄_N‖τ_S) > 0; [ATO19] Sec. V).
Prints a table of Monte-Carlo results against the analytic ones and writes ``demo.png`` + CSVs into ``out``
(the plot needs matplotlib: ``pip install "jaxthermo[plot]"``).
"""

from __future__ import annotations

import csv
import os
import time
import unicodedata

import jax.numpy as jnp
import numpy as np

from .._information import renyi_divergence
from .._qudit import thermal_state
from ..ensemble import ensemble
from ..inhomogeneous import (
    Gaussian,
    InhomogeneousReservoir,
    averaged_reservoir_populations,
    reservoir_populations,
    small_delta_mean_work,
)
from ._output import check_output_folder
from ._plotting import pyplot, require_matplotlib, save_figure

DEFAULTS = dict(d=2, beta=1.0, g0=1.0, sigma=0.05, theta=0.1)
OUTPUTS = ("demo.png", "demo_steps.csv", "demo_work_histogram.csv")


def _analytics(model, rho0, n_steps):
    dist = model.distribution
    qbar = np.asarray(averaged_reservoir_populations(model, dist))
    c2, s2 = np.cos(model.theta) ** 2, np.sin(model.theta) ** 2
    r = np.arange(n_steps + 1)
    p_exact = qbar[None, :] - (qbar - np.real(np.diag(rho0)))[None, :] * c2 ** r[:, None]
    e_dq = np.asarray(dist.expectation(lambda dl: dl[:, None] * reservoir_populations(model, dl)))
    w_exact = -model.g0 * s2 * float(np.sum(np.arange(model.d) * e_dq))  # E W_r, exact for every r
    w_small = float(small_delta_mean_work(model, dist.variance))  # O(σ²), [ATO-preprint] eq. (14)
    # p0_r = c^{2r} p0 + s² Σ_k c^{2(r−k)} q0(δ_k): Var p0_r = s⁴ Var q0(δ) Σ_{k<r} c^{4k} (independent δ's)
    var_q0 = float(dist.expectation(lambda dl: reservoir_populations(model, dl)[:, 0] ** 2)) - qbar[0] ** 2
    var_p0 = s2**2 * var_q0 * np.concatenate([[0.0], np.cumsum(c2 ** (2 * np.arange(n_steps)))])
    return qbar, p_exact, w_exact, w_small, var_p0


def _divergence_spread(p, q, se, alpha, nodes: int = 80):
    """(mean, standard deviation) of D_α(p̄‖q) for a qubit's p̄ = (p_0 + e, p_1 − e), e ~ N(0, se²) (Gauss–Hermite):
    what the Monte-Carlo estimate of a mean state's divergence scatters around. D_α is quadratic near q, so the
    estimate is biased upward (by ≈ se²/(2 p_0 p_1) for D_1) and its spread is not D_α′·se."""
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    e = se * x
    states = np.clip(np.asarray(p)[None, :] + np.stack([e, -e], -1), 0.0, 1.0)
    d = np.asarray(renyi_divergence(jnp.asarray(states), jnp.asarray(q), alpha))
    w = w / w.sum()
    mean = float(w @ d)
    return mean, float(np.sqrt(max(w @ (d - mean) ** 2, 0.0)))


def run_demo(out: str = "demo-output", n_configs: int = 10_000, n_steps: int = 100, seed: int = 0) -> int:
    """Run the demo ensemble, print the table, write ``demo.png``, ``demo_steps.csv`` and
    ``demo_work_histogram.csv`` into ``out``. Returns 0 (the CLI's exit status)."""
    require_matplotlib()  # fail before the ensemble runs, not after
    check_output_folder(out, OUTPUTS, where=f"output folder {out!r}")  # likewise: ConfigError naming it
    p = DEFAULTS
    model = InhomogeneousReservoir(p["d"], p["beta"], p["g0"], p["theta"], distribution=Gaussian(p["sigma"]))
    rho0 = np.asarray(thermal_state(p["d"], p["beta"], p["g0"]))
    start = time.perf_counter()
    res = ensemble(model, rho0, n_steps, n_configs, seed, alphas=(1.0, float("inf")), work_bins=40, progress=True)
    elapsed = time.perf_counter() - start
    qbar, p_exact, w_exact, w_small, var_p0 = _analytics(model, rho0, n_steps)
    se_td = np.sqrt(var_p0 / n_configs)  # standard error of the qubit trace distance |p̄0 − τ̄0|
    q_s = np.real(np.diag(rho0))
    d_exact = np.stack(
        [np.asarray(renyi_divergence(jnp.asarray(p_exact), jnp.asarray(q_s), a)) for a in (1.0, np.inf)], -1
    )
    td_exact = 0.5 * np.sum(np.abs(p_exact - qbar), axis=-1)
    spread = [_divergence_spread(p_exact[-1], q_s, se_td[-1], a) for a in (1.0, np.inf)]

    w_per = float(np.mean(res.mean_work))
    w_se = float(np.sqrt(res.var_total_work / n_configs)) / n_steps
    rows = [
        (
            "mean work per collision  <W_r>",
            f"{w_per:.4e} ± {w_se:.1e}",
            f"{w_small:.4e} (small-δ, O(σ²))  {w_exact:.4e} (exact)",
        ),
        (
            f"accumulated work  <W_{n_steps}>",
            f"{res.mean_total_work:.4e} ± {w_se * n_steps:.1e}",
            f"{n_steps * w_exact:.4e}",
        ),
        (
            f"trace distance D(ρ̄_{n_steps}, τ̄)",
            f"{res.mean_state_trace_distance[-1]:.4e} ± {se_td[-1]:.1e}",
            f"{td_exact[-1]:.4e} (cos^2N θ D(ρ0, τ̄))",
        ),
        *(
            (
                f"D_{symbol}(ρ̄_{n_steps} ‖ τ_S)",
                f"{res.mean_state_divergence[-1, j]:.4e} ± {spread[j][1]:.1e}",
                f"{d_exact[-1, j]:.4e} (estimate's mean {spread[j][0]:.4e})",
            )
            for j, symbol in enumerate(("1", "∞"))
        ),
        *(
            (
                f"frozen average <D_{symbol}(ρ_{{S|N}} ‖ τ_S)>",
                f"{res.mean_divergence[-1, j]:.4e} ± {np.sqrt(res.var_divergence[-1, j] / n_configs):.1e}",
                "—",
            )
            for j, symbol in enumerate(("1", "∞"))
        ),
    ]
    print(
        f"\njaxthermo demo — model A, qubit, βg0 = {p['beta'] * p['g0']:g}, Gaussian σ = {p['sigma']:g}, "
        f"θ = {p['theta']:g}, N = {n_steps}, {n_configs} configurations, ρ0 = τ_S  ({elapsed:.1f} s)\n"
        "energies (work) in units of g0, divergences D_α in nats, trace distances dimensionless; ± one standard\n"
        "error (for D_α(ρ̄ ‖ τ_S): the spread of D_α at p̄_0 ~ N(p_0, Var p̄_0), whose mean sits above D_α(p_0))\n"
    )
    w1 = max(_width(r[0]) for r in rows) + 2
    w2 = max(_width(r[1]) for r in rows) + 2
    print(_pad("quantity", w1) + _pad("Monte Carlo", w2) + "analytic")
    print("-" * (w1 + w2 + 40))
    for name, mc, theory in rows:
        print(_pad(name, w1) + _pad(mc, w2) + theory)

    os.makedirs(out, exist_ok=True)
    _write_csvs(out, res, p_exact, td_exact, se_td, d_exact)
    path = _plot(out, res, td_exact, se_td, d_exact, w_exact, n_steps, n_configs)
    print(f"\nwrote {path}, {os.path.join(out, 'demo_steps.csv')}, {os.path.join(out, 'demo_work_histogram.csv')}")
    return 0


def _width(text: str) -> int:
    """Columns ``text`` takes on a terminal: combining marks (the bars of ρ̄, τ̄) take none."""
    return sum(not unicodedata.combining(c) for c in text)


def _pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (str.ljust counts ρ̄ as two and misaligned the table)."""
    return text + " " * (width - _width(text))


def _write_csvs(out, res, p_exact, td_exact, se_td, d_exact):
    n = res.n_steps
    with open(os.path.join(out, "demo_steps.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "r",
                "mean_p0_mc",
                "mean_p0_exact",
                "trace_distance_to_tau_bar_mc",
                "trace_distance_to_tau_bar_exact",
                "trace_distance_standard_error",
                "D1_mean_state_mc",
                "D1_mean_state_exact",
                "Dinf_mean_state_mc",
                "Dinf_mean_state_exact",
                "D1_frozen_average",
                "Dinf_frozen_average",
                "mean_work_r",
                "var_work_r",
                "mean_cumulative_work_r",
            ]
        )
        for r in range(n + 1):
            work = (
                ["", "", ""] if r == 0 else [res.mean_work[r - 1], res.var_work[r - 1], res.mean_cumulative_work[r - 1]]
            )
            w.writerow(
                [
                    r,
                    res.mean_state[r, 0, 0].real,
                    p_exact[r, 0],
                    res.mean_state_trace_distance[r],
                    td_exact[r],
                    se_td[r],
                    res.mean_state_divergence[r, 0],
                    d_exact[r, 0],
                    res.mean_state_divergence[r, 1],
                    d_exact[r, 1],
                    res.mean_divergence[r, 0],
                    res.mean_divergence[r, 1],
                    *work,
                ]
            )
    h = res.work_histogram
    with open(os.path.join(out, "demo_work_histogram.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["W_N_bin_left", "W_N_bin_right", "count", "density"])
        for lo, hi, c, dens in zip(h.edges[:-1], h.edges[1:], h.counts, h.density):
            w.writerow([lo, hi, c, dens])
        w.writerow(["underflow", "", h.underflow, ""])
        w.writerow(["overflow", "", h.overflow, ""])


def _plot(out, res, td_exact, se_td, d_exact, w_exact, n_steps, n_configs):
    plt = pyplot()
    p = DEFAULTS
    fig, axes = plt.subplots(1, 3, figsize=(18, 4.6))
    h = res.work_histogram
    scale = 1e3
    ax = axes[0]
    ax.stairs(h.density / scale, h.edges * scale, fill=True, alpha=0.5, label=f"Monte Carlo ({n_configs} configs)")
    ax.axvline(res.mean_total_work * scale, color="C3", label=f"mean {res.mean_total_work * scale:.3f}")
    ax.axvline(n_steps * w_exact * scale, color="k", ls="--", label=f"exact N·E[W_r] = {n_steps * w_exact * scale:.3f}")
    ax.set_xlabel(r"accumulated work $W_N$  [$10^{-3}\,g_0$]")
    ax.set_ylabel(r"probability density  [$1/(10^{-3} g_0)$]")
    ax.set_title(f"(a) distribution of $W_{{N}}$, N = {n_steps}")
    ax.legend(fontsize=8)

    r = np.arange(n_steps + 1)
    ax = axes[1]
    ax.plot(r[1:], res.mean_state_trace_distance[1:], "o", ms=3, label=r"Monte Carlo $D(\bar\rho_r, \bar\tau)$")
    ax.plot(r, td_exact, "k-", lw=1, label=r"exact $\cos^{2r}\theta\, D(\rho_0, \bar\tau)$")
    ax.fill_between(r, td_exact - 2 * se_td, td_exact + 2 * se_td, color="0.8", label="exact ± 2 MC standard errors")
    ax.set_yscale("log")
    ax.set_xlabel("collision r")
    ax.set_ylabel(r"trace distance to $\bar\tau$")
    ax.set_title(r"(b) relaxation of the mean state to $\bar\tau$")
    ax.legend(fontsize=8)

    ax = axes[2]
    # log scale: r = 0 is left out (ρ0 = τ_S gives D_α = 0 and βW = 0 there, drawn as a drop off the axis)
    for k, (name, col) in enumerate(((r"$\alpha=1$", "C0"), (r"$\alpha=\infty$", "C1"))):
        ax.plot(r[1:], d_exact[1:, k], "-", color=col, lw=1, label=rf"$D_\alpha(\bar\rho_r\|\tau_S)$ exact, {name}")
        ax.plot(
            r[5::5],
            res.mean_state_divergence[5::5, k],
            "o",
            ms=3,
            color=col,
            label=rf"$D_\alpha(\bar\rho_r\|\tau_S)$ MC, {name}",
        )
        ax.plot(
            r[1:],
            res.mean_divergence[1:, k],
            "--",
            color=col,
            label=rf"frozen avg $\langle D_\alpha(\rho_{{S|r}}\|\tau_S)\rangle$, {name}",
        )
    # ρ0 = τ_S: βΔF_α(r) = D_α(ρ̄_r‖τ_S) − D_α(τ_S‖τ_S) = D_α(ρ̄_r‖τ_S). The second laws of the averaged
    # operation would need βΔF_α ≤ βW (accumulated mean work); the curves above the βW line violate them.
    beta = p["beta"]
    bw = beta * res.mean_cumulative_work
    bw_se = beta * np.sqrt(res.var_cumulative_work / n_configs)
    ax.plot(r[1:], bw, "-", color="C3", lw=2, label=r"$\beta\langle W_1+\dots+W_r\rangle$ (MC, ±2 s.e. shaded)")
    ax.fill_between(r[1:], bw - 2 * bw_se, bw + 2 * bw_se, color="C3", alpha=0.3, lw=0)
    ax.set_yscale("log")
    ax.set_xlabel("collision r")
    ax.set_ylabel(r"$\beta\Delta F_\alpha = D_\alpha(\bar\rho_r\|\tau_S)$, $\beta W$  [nats]")
    ax.set_title(
        r"(c) second laws ($\rho_0=\tau_S$: $\beta\Delta F_\alpha = D_\alpha(\cdot\|\tau_S)$): every curve > 0"
        "\n"
        r"violates $\Delta F_\alpha \leq 0$; curves above the red $\beta W$ line violate $\Delta F_\alpha \leq W$",
        fontsize=9,
    )
    # beside the panel: inside, the legend covered the α = 1 curves at large r
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle(
        f"jaxthermo demo: model A, qubit, $\\beta g_0$ = {p['beta'] * p['g0']:g}, Gaussian $\\sigma$ = {p['sigma']:g}, "
        f"$\\theta$ = {p['theta']:g}, $\\rho_0 = \\tau_S$, Hamiltonian kind",
        fontsize=11,
    )
    fig.tight_layout()
    path = os.path.join(out, "demo.png")
    save_figure(fig, path, dpi=120)
    return path
