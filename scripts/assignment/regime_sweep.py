"""Sweep of detuning Δ and effective coupling Γ (vmap over parameters), [CVS25] / docs/assignment.md:

(a) how far apart the bare (= interaction) heat and the minimal-dissipation heat are,
(b) the size of the interaction energy relative to the energy change of reservoir 1 — it stays
    finite in the dispersive limit Δ ≫ Γ,
(c) the height of the first minimal-dissipation work peak (at t = π/Ω, Ω = √(Δ²+Γ²)).

Each (Δ, Γ) is evolved over one period on its own grid t = τ/Ω, τ ∈ [0, 2π], which contains the
peak time τ = π exactly.

Usage: python scripts/assignment/regime_sweep.py [OUT_DIR] [--quick]   (default figures/assignment; the published
figure is in scripts/assignment/output). Writes regime_sweep.png and regime_sweep.csv. --quick: a 9 × 9 grid of
(Δ, Γ) instead of 21 × 21.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from _common import DEFAULT_OUT, OUT, PARAMS, param_text, save, write_csv
from _study import run_study

import jaxthermo as jt

TAU = jnp.linspace(0.0, 2 * jnp.pi, 201)  # τ = Ωt; index 100 is the peak τ = π


def metrics(delta, big_gamma):
    model = jt.QuadraticReservoirs.from_regime(detuning=delta, effective_coupling=big_gamma, **PARAMS)
    times = TAU / jnp.hypot(delta, big_gamma)
    out = model.energetics(times)
    du1 = jnp.max(jnp.abs(out.weak_coupling_heat))
    heat_gap = jnp.max(jnp.abs(out.bare.heat - out.minimal_dissipation.heat)) / du1
    interaction = jnp.max(jnp.abs(out.energies[1] - out.energies[1, 0])) / du1
    peak_work = out.minimal_dissipation.work[100]
    return heat_gap, interaction, peak_work, jnp.min(out.sigma_min)


def main(out_dir=DEFAULT_OUT, quick=False):
    deltas = np.logspace(-1.5, 0.5, 9 if quick else 21)
    gammas = np.logspace(-1.5, 0.5, 9 if quick else 21)
    dd, gg = np.meshgrid(deltas, gammas, indexing="ij")
    heat_gap, interaction, peak_work, sigma = (
        np.asarray(x).reshape(dd.shape)
        for x in jax.jit(jax.vmap(metrics))(jnp.asarray(dd.ravel()), jnp.asarray(gg.ravel()))
    )
    write_csv(
        out_dir,
        "regime_sweep",
        {
            "detuning_Delta": dd,
            "effective_coupling_Gamma": gg,
            "heat_gap_rel": heat_gap,
            "interaction_energy_rel": interaction,
            "md_work_at_first_peak": peak_work,
            "min_sigma_G": sigma,
            "sigma_G_closed_form": dd / np.hypot(dd, gg),
        },
    )
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    panels = [
        (heat_gap, "(a) max|Q^bare − Q^md| / max|ΔŨ_1|", "heat gap / max|ΔŨ_1|  (dimensionless)"),
        (interaction, "(b) max|ΔŨ_I| / max|ΔŨ_1|  (interaction energy)", "|ΔŨ_I| / |ΔŨ_1|  (dimensionless)"),
        (np.log10(np.abs(peak_work)), "(c) log10 |W^md| at the first peak t = π/Ω", "log10(|W^md| / energy unit)"),
    ]
    for ax, (data, title, unit) in zip(axes, panels):
        mesh = ax.pcolormesh(gg, dd, data, shading="auto", cmap="viridis")
        fig.colorbar(mesh, ax=ax).set_label(unit, fontsize=8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.plot(gammas, gammas, "w--", lw=1, label="Δ = Γ")
        ax.set_xlabel("effective coupling Γ = 2√(N1N2) γ [energy]")
        ax.set_ylabel("detuning Δ = ν1 − ν2 [energy]")
        ax.set_title(title, fontsize=10)
        ax.text(0.04, 0.93, "dispersive Δ ≫ Γ", transform=ax.transAxes, color="w", fontsize=8)
        ax.text(0.55, 0.05, "ultrastrong Δ ≪ Γ", transform=ax.transAxes, color="w", fontsize=8)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 0.12), fontsize=8)
    fig.suptitle(
        "Regimes of the three energy assignments, reservoir 1, one period 0 ≤ Ωt ≤ 2π (" + param_text() + ")",
        fontsize=10,
    )
    fig.tight_layout()
    print(save(fig, out_dir, "regime_sweep"))
    err = np.max(np.abs(sigma - dd / np.hypot(dd, gg)))
    return {"max |σ_min(G) − Δ/Ω| over the sweep": f"{err:.2e}"}


if __name__ == "__main__":
    run_study(main, DEFAULT_OUT, OUT)
