"""optax finds the ancilla coherence χ that maximises the coherent work (docs/coherent.md; [WCCM] eq. (16)).

Qutrit system and qutrit ancilla (levels 0, 1, 2, gap Ω = 1), V = g Σ_k (L_k† ⊗ L_k + h.c.) with
L_1 = |0⟩⟨1|, L_2 = |1⟩⟨2| (energy conserving), a coherent system state ρ_S, β = 1, λ = 1, τ = 10⁻³.
χ has three complex off-diagonal entries (6 real parameters). Figure of merit: the coherent work
of one collision, βW_C = βẆ_C τ, with χ kept inside a positivity margin: ρ_th + √τλχ ≥ (1 − κ)ρ_th,
κ = 0.2 (a radial map onto that set; on the edge of positivity itself the leading-order identities
of [WCCM] lose accuracy, see tests/coherent/test_thermo.py).

Why not the literal ratio βW_C/(−ΔC_A)? To leading order in √τλ‖χ‖ βW_C + ΔC_A = S(ρ_A'‖ρ_A) ≈ τ q(ρ_S)
does not depend on χ, so the ratio equals w/(w − c) with w = βW_C: it is ≥ 1 (the bound) and diverges as
the consumed coherence −ΔC_A → 0⁺; it has no maximum. The optimum drives χ to the κ-margin, where
√τλχ is a fifth of ρ_th and the next order shows: there the two sides of that identity differ by tens of
per cent and both move with χ (the right panel), while the exact S(ρ_A'‖ρ_A) ≥ 0 and the bound hold. The script reports it at the optimum of
βW_C, where it is closest to 1, i.e. where coherence is turned into work most efficiently, and
checks the bound βW_C ≥ −ΔC_A there.

Usage: python scripts/coherent/optimise_chi.py [OUT_DIR] [--quick]   (default figures/coherent)
Writes optimise_chi.png and optimise_chi.csv. --quick: 60 Adam steps instead of 300.
"""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import optax

import jaxthermo as jt
from jaxthermo.coherent import collision_thermodynamics, thermal_ancilla

BETA, LAM, TAU, KAPPA, G = 1.0, 1.0, 1e-3, 0.2, 1.0
H = jnp.diag(jnp.array([0.0, 1.0, 2.0]))
UPPER = ((0, 1), (0, 2), (1, 2))


def base_model():
    ladder = np.zeros((2, 3, 3))
    ladder[0, 0, 1] = ladder[1, 1, 2] = 1.0
    coupling = jt.EigenoperatorCoupling(ladder, ladder, G * np.ones(2), np.ones(2))
    return jt.eigenoperator_model(coupling, H, H, BETA, np.zeros((3, 3)), LAM, TAU)


def system_state():
    psi = np.array([0.6, 0.6 + 0.3j, 0.2 - 0.3j])
    pure = np.outer(psi, psi.conj()) / np.vdot(psi, psi).real
    return jnp.asarray(0.7 * pure + 0.3 * np.diag([0.5, 0.3, 0.2]))


def chi_from_params(params, rho_th):
    """Six real numbers and a scale logit → χ on the κ-margin set (radial map, differentiable)."""
    z = params["re"] + 1j * params["im"]
    raw = jnp.zeros((3, 3), complex)
    for k, (i, j) in enumerate(UPPER):
        raw = raw.at[i, j].set(z[k])
    raw = raw + jnp.conj(raw.T)
    p = jnp.real(jnp.diag(rho_th))
    spread = jnp.max(jnp.abs(jnp.linalg.eigvalsh(raw / jnp.sqrt(p[:, None] * p[None, :]))))
    return KAPPA * jax.nn.sigmoid(params["scale"]) * raw / (jnp.sqrt(TAU) * LAM * spread)


def main(out_dir="figures/coherent", steps=300, quick=False):
    steps = min(steps, 60) if quick else steps
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model, rho = base_model(), system_state()
    rho_th = thermal_ancilla(model)

    def terms(params):
        return collision_thermodynamics(model.replace(chi=chi_from_params(params, rho_th)), rho)

    def loss(params):
        return -BETA * terms(params).coherent_work / TAU  # per unit time, O(1)

    key = jax.random.PRNGKey(0)
    params = {
        "re": 0.1 * jax.random.normal(key, (3,)),
        "im": 0.1 * jax.random.normal(jax.random.fold_in(key, 1), (3,)),
        "scale": jnp.array(0.0),
    }
    opt = optax.adam(0.05)
    state = opt.init(params)

    @jax.jit
    def step(params, state):
        value, grad = jax.value_and_grad(loss)(params)
        updates, state = opt.update(grad, state, params)
        return optax.apply_updates(params, updates), state, value

    measure = jax.jit(terms)
    history = []
    for n in range(steps + 1):
        t = measure(params)
        history.append(
            [
                n,
                float(BETA * t.coherent_work),
                float(-t.coherence_change),
                float(t.bound_margin),
                float(t.ancilla_relative_entropy),
            ]
        )
        if n < steps:
            params, state, _ = step(params, state)
    history = np.array(history)
    np.savetxt(
        out / "optimise_chi.csv",
        history,
        delimiter=",",
        header="step,beta_W_C,minus_Delta_C_A,bound_margin_beta_W_C_plus_Delta_C_A,S_rel_ancilla",
        comments="",
    )

    chi = chi_from_params(params, rho_th)
    final = measure(params)
    rho_a = np.asarray(jt.coherent.ancilla_state(model.replace(chi=chi)))
    w, dc = float(BETA * final.coherent_work), float(final.coherence_change)
    print("optimal χ (upper entries):", np.round(np.asarray([chi[i, j] for i, j in UPPER]), 4))
    print(f"βW_C = {w:.4e}, −ΔC_A = {-dc:.4e}, ratio βW_C/(−ΔC_A) = {w / -dc:.4f} (the bound says ≥ 1)")
    print(
        f"bound margin βW_C + ΔC_A = {w + dc:.4e} ≥ 0: {w + dc >= 0}; S(ρ_A'‖ρ_A) = {float(final.ancilla_relative_entropy):.4e}"
    )
    print(
        f"min eigenvalue of ρ_A = {np.linalg.eigvalsh(rho_a).min():.4f} (κ-margin keeps it ≥ {(1 - KAPPA) * float(jnp.min(jnp.real(jnp.diag(rho_th)))):.4f})"
    )

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax1.plot(history[:, 0], history[:, 1], label="βW_C (coherent work)")
    ax1.plot(history[:, 0], history[:, 2], label="−ΔC_A (ancilla coherence consumed)")
    ax1.set_xlabel("optax Adam step")
    ax1.set_ylabel("per collision (nats)")
    ax1.set_title("maximising βW_C over χ within positivity", fontsize=10)
    ax1.legend(fontsize=8)
    ax2.plot(history[:, 0], history[:, 3], label="βW_C + ΔC_A (bound margin, [WCCM] eq. (16))")
    ax2.plot(history[:, 0], history[:, 4], "--", label="S(ρ_A'‖ρ_A) ([WCCM] eq. (15), left side)")
    ax2.axhline(0.0, color="k", lw=0.8)
    ax2.set_xlabel("optax Adam step")
    ax2.set_ylabel("per collision (nats)")
    ax2.set_title(
        "the bound βW_C ≥ −ΔC_A holds along the way; βW_C + ΔC_A = S(ρ_A'‖ρ_A)\n"
        f"holds to leading order in √τλ‖χ‖ only (here √τλχ up to κ = {KAPPA} of ρ_th)",
        fontsize=9,
    )
    ax2.legend(fontsize=8)
    fig.suptitle(
        f"Model B, qutrits: β = {BETA}, λ = {LAM}, τ = {TAU}, g = {G}, positivity margin κ = {KAPPA}", fontsize=11
    )
    fig.tight_layout()
    fig.savefig(out / "optimise_chi.png", dpi=130)
    return history


if __name__ == "__main__":
    from jaxthermo.apps.script_cli import script_arguments

    args = script_arguments(__doc__, "figures/coherent")
    main(args.out, quick=args.quick)
