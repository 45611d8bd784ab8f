"""γ → 0 at fixed detuning: only the minimal-dissipation heat approaches the weak-coupling heat
([CVS25], slide 'Recap': "Only minimal dissipation heat compatible with the weak-coupling limit").

The weak-coupling heat is ∫Tr{H_1 ρ̇_1} = ΔŨ_1 (no work for constant H_1), evaluated on the exact
state. For each Γ = 2√(N1N2)γ (vmap) the script reports the relative deviations
max_t|Q − ΔŨ_1| / max_t|ΔŨ_1| over one period 0 ≤ Ωt ≤ 2π, for Q^md and Q^bare (= Q^int).

Usage: python scripts/assignment/weak_coupling_limit.py [OUT_DIR] [--quick]   (default figures/assignment; the
published figure is in scripts/assignment/output). Writes weak_coupling_limit.png and .csv. --quick: 13 values of Γ
instead of 25 (the slope is fitted on the smallest 8 in the full run, the smallest 4 in --quick).
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

TAU = jnp.linspace(0.0, 2 * jnp.pi, 201)
DELTAS = (0.3, 1.0)


def deviations(delta, big_gamma):
    model = jt.QuadraticReservoirs.from_regime(detuning=delta, effective_coupling=big_gamma, **PARAMS)
    out = model.energetics(TAU / jnp.hypot(delta, big_gamma))
    wc = out.weak_coupling_heat
    scale = jnp.max(jnp.abs(wc))
    md = jnp.max(jnp.abs(out.minimal_dissipation.heat - wc)) / scale
    bare = jnp.max(jnp.abs(out.bare.heat - wc)) / scale
    return md, bare, scale


def main(out_dir=DEFAULT_OUT, quick=False):
    gammas = np.logspace(-3, 0, 13 if quick else 25)
    n_fit = 4 if quick else 8  # Γ ≤ 10^-2.1 in both modes: the Γ² regime
    res = {}
    columns = {"effective_coupling_Gamma": gammas}
    fig, ax = plt.subplots(figsize=(7, 5))
    for delta, color in zip(DELTAS, ("C0", "C3")):
        md, bare, scale = (
            np.asarray(x) for x in jax.jit(jax.vmap(lambda g: deviations(delta, g)))(jnp.asarray(gammas))
        )
        columns[f"Delta_{delta}_rel_dev_md"] = md
        columns[f"Delta_{delta}_rel_dev_bare_eq_interaction"] = bare
        columns[f"Delta_{delta}_max_dU1"] = scale
        ax.loglog(gammas, md, "-", color=color, label=f"minimal dissipation Q^md, Δ = {delta}")
        ax.loglog(gammas, bare, "--", color=color, label=f"bare = interaction Q̃_1 + Q̃_I, Δ = {delta}")
        slope = np.polyfit(np.log(gammas[:n_fit]), np.log(md[:n_fit]), 1)[0]
        res[f"Δ = {delta}"] = (
            f"Q^md deviation slope {slope:.3f} (expected 2); bare deviation at smallest Γ {bare[0]:.3f}"
        )
    ref = 3 * gammas**2 / gammas[0] ** 2 * columns[f"Delta_{DELTAS[0]}_rel_dev_md"][0]  # offset ×3 to stay visible
    ax.loglog(gammas, ref, ":", color="0.5", label="∝ Γ² (guide)")
    ax.set_xlabel("effective coupling Γ = 2√(N1N2) γ [energy]")
    ax.set_ylabel("max_t |Q(t) − ΔŨ_1(t)| / max_t |ΔŨ_1(t)|")
    ax.set_title(
        "Relative deviation from the weak-coupling heat, one period 0 ≤ Ωt ≤ 2π\n(" + param_text() + ")", fontsize=9
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    print(save(fig, out_dir, "weak_coupling_limit"), write_csv(out_dir, "weak_coupling_limit", columns))
    return res


if __name__ == "__main__":
    run_study(main, DEFAULT_OUT, OUT)
