"""The per-collision quantities whose moments the ensemble kernels stream (docs/ensemble.md §2), in their row order.

Shared by the CPU program (:mod:`~jaxthermo.ensemble._kernel`) and the GPU tile kernel
(:mod:`~jaxthermo.ensemble._tile_kernel`), which pack them in this order after the state's rows.
"""

from __future__ import annotations

import jax.numpy as jnp

from ..inhomogeneous._model import reservoir_parameters_of

# W_r, Q_r (into the system), ΔU_r and their running sums: every model A run
QUANTITIES = ("work", "heat", "energy_change", "cumulative_work", "cumulative_heat", "cumulative_energy_change")


def quantities(model) -> tuple:
    """The streamed per-collision quantities of ``model``: :data:`QUANTITIES`, and for the temperature kind also
    ``entropy_flow`` β_r Q_r (β_r = β(1 + δ_r) differs between configurations; for the Hamiltonian kind β_r = β and
    the result takes it from the heat's moments: docs/inhomogeneous.md §9)."""
    return QUANTITIES + (("entropy_flow",) if model.kind == "temperature" else ())


def entropy_flows(model, delta, heat) -> list:
    """``[β_r Q_r]`` for the temperature kind, ``[]`` otherwise: the rows after :data:`QUANTITIES`."""
    if model.kind != "temperature":
        return []
    return [reservoir_parameters_of(model, delta).beta * heat]


def total_entropy_production(model, d1_initial, d1_final, w_n, q_n, flow_n):
    """ΔS_1 + … + ΔS_N of each configuration, (B,): the sum of S(ρ_S'‖τ_S) changes and flows of docs/inhomogeneous.md
    §9 telescoped, β(W_N + Q_N) − (D_1(ρ_S|N‖τ_S) − D_1(ρ0‖τ_S)) − Σ_r β_r Q_r, with ``flow_n`` = Σ_r β_r Q_r for the
    temperature kind and None for the Hamiltonian kind (β_r = β: the flow is βQ_N, the sum βW_N − ΔD_1)."""
    beta = jnp.asarray(model.beta).astype(w_n.dtype)
    change = d1_final - d1_initial
    if flow_n is None:
        return beta * w_n - change
    return beta * (w_n + q_n) - change - flow_n
