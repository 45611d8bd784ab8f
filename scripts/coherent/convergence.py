"""The stroboscopic map approaches the master equation as τ → 0, measured (docs/coherent.md).

Left: max |ρ_S^strobo(T) − ρ_S^ME(T)| at fixed T = 2 against τ = T/N, for the [WCCM] qubit
example (order 1) and a qubit system with a qutrit ancilla (order 1/2; see the test docstring in
tests/coherent/test_convergence.py for why). Right: the terms of [WCCM] eqs. (14)–(15) (I(ρ_SA'),
S(ρ_A'‖ρ_A)) and their residuals (I + βΔF + ΔC_A, S − βW_C − ΔC_A) for one collision of the
qubit example: terms ∝ τ, residuals ∝ τ².

Usage: python scripts/coherent/convergence.py [OUT_DIR] [--quick]   (default figures/coherent)
Writes convergence.png and convergence_map.csv, convergence_identities.csv. --quick: N up to 320 collisions
instead of 640, 5 values of τ for the identities instead of 9.
"""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import jaxthermo as jt
from jaxthermo.coherent import collision_thermodynamics, qubit_example

T = 2.0
QUBIT = dict(omega=1.0, g=1.0, beta=0.7, lam=0.5)


def qutrit_ancilla_model():
    """Qubit system (gap 1), qutrit ancilla (gaps 1, 1), V = σ₊ ⊗ A + σ₋ ⊗ A†, A = |0⟩⟨1| + |1⟩⟨2|
    (energy conserving), χ with a 0↔2 coherence: Tr(A²χ) ≠ 0 gives O(τ^{3/2}) terms per collision."""
    h_s = np.diag([0.0, 1.0])
    h_a = np.diag([0.0, 1.0, 2.0])
    sp = np.array([[0, 0], [1, 0]])
    a = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    v = np.kron(sp, a) + np.kron(sp.T, a.T)
    chi = np.array([[0, 1, 0.5], [1, 0, 1], [0.5, 1, 0]])
    return jt.CoherentCollisionModel(h_s, h_a, v, 0.7, chi, 0.3, 0.01)


def map_errors(model, rho0, ns):
    """max |ρ_S^strobo(T) − ρ_S^ME(T)| for N = ns collisions of τ = T/N: one compiled trajectory of max(ns) steps,
    read at step N (a program per N took 30 s of compiling on 2 cores for the same numbers)."""
    exact = jt.propagate(model, rho0, jnp.array([T]))[-1]
    run = jax.jit(lambda m: jt.stroboscopic_trajectory(m, rho0, int(max(ns))).states)
    return np.array([float(jnp.max(jnp.abs(run(model.replace(tau=T / n))[n] - exact))) for n in ns])


def main(out_dir="figures/coherent", quick=False):
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ns = np.array([20, 40, 80, 160, 320] if quick else [20, 40, 80, 160, 320, 640])
    taus = T / ns
    rho0 = jnp.array([[0.2, 0.3 - 0.1j], [0.3 + 0.1j, 0.8]])
    err_q = map_errors(qubit_example(**QUBIT, tau=0.01), rho0, ns)
    err_3 = map_errors(qutrit_ancilla_model(), rho0, ns)
    order_q = -np.polyfit(np.log(ns), np.log(err_q), 1)[0]
    order_3 = -np.polyfit(np.log(ns[2:]), np.log(err_3[2:]), 1)[0]  # asymptotic part
    np.savetxt(
        out / "convergence_map.csv",
        np.c_[taus, ns, err_q, err_3],
        delimiter=",",
        header="tau,n_collisions,error_qubit_example,error_qutrit_ancilla",
        comments="",
    )

    taus_c = np.geomspace(1e-4, 1e-2, 5 if quick else 9)
    thermo = jax.jit(collision_thermodynamics)
    rows = []
    for tau in taus_c:
        t = thermo(qubit_example(**QUBIT, tau=float(tau)), rho0)
        rows.append(
            [
                tau,
                float(t.mutual_information),
                float(t.ancilla_relative_entropy),
                abs(float(t.residual_information)),
                abs(float(t.residual_relative_entropy)),
                float(t.bound_margin),
            ]
        )
    rows = np.array(rows)
    np.savetxt(
        out / "convergence_identities.csv",
        rows,
        delimiter=",",
        header="tau,mutual_information,ancilla_relative_entropy,abs_residual_eq14,abs_residual_eq15,bound_margin",
        comments="",
    )
    slopes = [np.polyfit(np.log(rows[:, 0]), np.log(rows[:, k]), 1)[0] for k in (1, 2, 3, 4)]

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.3))
    ax1.loglog(taus, err_q, "o-", label=f"qubit example ([WCCM]), order {order_q:.2f}")
    ax1.loglog(taus, err_3, "s-", label=f"qubit + qutrit ancilla (λ = 0.3, χ_02 ≠ 0), order {order_3:.2f}")
    ax1.loglog(taus, err_q[-1] * taus / taus[-1], "k:", lw=1, label="∝ τ")
    ax1.loglog(taus, err_3[-1] * np.sqrt(taus / taus[-1]), "k--", lw=1, label="∝ τ^½")
    ax1.set_xlabel("collision time τ (units of 1/Ω)")
    ax1.set_ylabel("max |ρ_S^strobo(T) − ρ_S^ME(T)|")
    ax1.set_title(f"stroboscopic map → master equation, T = {T:g} fixed", fontsize=10)
    ax1.legend(fontsize=8)
    labels = ["I(ρ_SA')", "S(ρ_A'‖ρ_A)", "|I + βΔF + ΔC_A| (eq. (14))", "|S − βW_C − ΔC_A| (eq. (15))"]
    for k, (lab, mk) in enumerate(zip(labels, "o^vs"), start=1):
        ax2.loglog(rows[:, 0], rows[:, k], mk + "-", label=f"{lab}: slope {slopes[k - 1]:.2f}")
    ax2.set_xlabel("collision time τ (units of 1/Ω)")
    ax2.set_ylabel("per-collision value (nats)")
    ax2.set_title("identities of [WCCM] eqs. (14)–(15): terms ∝ τ, residuals ∝ τ²", fontsize=10)
    ax2.legend(fontsize=8)
    fig.suptitle(
        f"Model B convergence (Ω = g = 1, β = {QUBIT['beta']}, λ = {QUBIT['lam']}, ρ_S(0) coherent)", fontsize=11
    )
    fig.tight_layout()
    fig.savefig(out / "convergence.png", dpi=130)
    print(
        f"map order: qubit {order_q:.3f}, qutrit ancilla {order_3:.3f}; identity slopes {np.round(slopes, 3).tolist()}"
    )
    print(f"min bound margin βW_C + ΔC_A = {rows[:, 5].min():.3e}")
    return out


if __name__ == "__main__":
    from jaxthermo.apps.script_cli import script_arguments

    args = script_arguments(__doc__, "figures/coherent")
    main(args.out, quick=args.quick)
