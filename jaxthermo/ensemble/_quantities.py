"""The per-collision quantities whose moments the ensemble kernels stream (docs/ensemble.md §2), in their row order.

Shared by the CPU program (:mod:`~jaxthermo.ensemble._kernel`) and the GPU tile kernel
(:mod:`~jaxthermo.ensemble._tile_kernel`), which pack them in this order after the state's rows.
"""

from __future__ import annotations

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
