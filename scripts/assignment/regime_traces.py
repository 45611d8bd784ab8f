"""Bare, interaction and minimal-dissipation energetics of reservoir 1 versus time, in the dispersive
(Δ ≫ Γ) and the ultrastrong (Δ ≪ Γ) regime (docs/assignment.md; [CVS25] slides 'Dispersive limit',
'Minimal dissipation peaks').

Usage: python scripts/assignment/regime_traces.py [OUT_DIR] [--quick]   (default figures/assignment; the published
figure is in scripts/assignment/output). Writes regime_traces.png and regime_traces.csv. --quick: 301 times per
regime instead of 601.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from _common import DEFAULT_OUT, OUT, PARAMS, param_text, save, write_csv
from _study import run_study

import jaxthermo as jt

REGIMES = {"dispersive": (1.0, 0.2), "ultrastrong": (0.1, 1.0)}  # (Δ, Γ)


def main(out_dir=DEFAULT_OUT, quick=False):
    fig, axes = plt.subplots(3, 2, figsize=(11, 9), sharex="col")
    columns = {}
    for col, (name, (delta, big_gamma)) in enumerate(REGIMES.items()):
        model = jt.QuadraticReservoirs.from_regime(detuning=delta, effective_coupling=big_gamma, **PARAMS)
        omega = np.hypot(delta, big_gamma)
        times = np.linspace(
            0.0, 6 * np.pi / omega, 301 if quick else 601
        )  # peaks at odd multiples of π/Ω lie on the grid
        out = model.energetics(times)
        md, bare, inter = out.minimal_dissipation, out.bare, out.interaction
        series = {
            "heat_bare_eq_interaction": bare.heat,
            "heat_md": md.heat,
            "heat_weak_coupling": out.weak_coupling_heat,
            "dU_bare": bare.energy_change,
            "dU_interaction": inter.energy_change,
            "dU_md": md.energy_change,
            "work_bare": bare.work,
            "work_md": md.work,
        }
        columns[f"{name}_time"] = times
        for key, val in series.items():
            columns[f"{name}_{key}"] = np.asarray(val)
        ax = axes[0, col]
        ax.plot(times, series["heat_bare_eq_interaction"], label="bare = interaction  Q̃_1 + Q̃_I")
        ax.plot(times, series["heat_md"], label="minimal dissipation  Q^md")
        ax.plot(times, series["heat_weak_coupling"], "k:", label="weak-coupling form  ΔŨ_1")
        ax.set_title(f"{name}: Δ = {delta}, Γ = {big_gamma}")
        ax.set_ylabel("heat into reservoir 1 [energy]")
        ax = axes[1, col]
        # the bare curve thick and light beneath: where ΔU^md equals it (dispersive) it showed nowhere
        ax.plot(times, series["dU_bare"], lw=4, alpha=0.45, label="bare  ΔŨ_1 (thick)")
        ax.plot(times, series["dU_interaction"], label="interaction  ΔŨ_1 + ΔŨ_I")
        ax.plot(times, series["dU_md"], "--", label="minimal dissipation  ΔU^md (dashed)")
        ax.set_ylabel("internal-energy change [energy]")
        ax = axes[2, col]
        ax.plot(times, series["work_bare"], label="bare  −ΔŨ_I")
        peak_md = float(np.max(np.abs(np.asarray(series["work_md"]))))  # dispersive: ~3e-4, flat at this scale
        ax.plot(times, series["work_md"], label=f"minimal dissipation  W^md (max |W^md| = {peak_md:.1e})")
        ax.axhline(0.0, color="0.35", ls="-.", lw=1.0, label="interaction  (W = 0)")
        for m in range(3):
            axes[2, col].axvline((2 * m + 1) * np.pi / omega, color="0.8", ls="--", lw=0.8)
        ax.set_ylabel("work on reservoir 1 [energy]")
        ax.set_xlabel("time t [1/energy]   (dashed: peak times (2m+1)π/Ω, Ω = √(Δ²+Γ²))")
    for ax in axes.ravel():
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi + 0.45 * (hi - lo))  # room for the legend above the curves
        ax.legend(fontsize=7, loc="upper center", ncol=2, framealpha=1.0).set_zorder(5)  # over the peak-time lines
        ax.grid(alpha=0.3)
    fig.suptitle("Energetics of reservoir 1 under three assignments (" + param_text() + "; ħ = 1)", fontsize=10)
    fig.tight_layout()
    return {"png": save(fig, out_dir, "regime_traces"), "csv": write_csv(out_dir, "regime_traces", columns)}


if __name__ == "__main__":
    run_study(main, DEFAULT_OUT, OUT)
