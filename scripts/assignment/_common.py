"""Shared parameters and output helpers for the model-C regime scripts (docs/assignment.md).

The reservoirs of [CVS25] are bosons (Colla, Vacchini & Smirne, arXiv:2510.06929); reservoir 1 is cold, reservoir 2 hot.
Outputs (PNG + CSV with named columns) go to ``scripts/assignment/output/``.
"""

from __future__ import annotations

import csv
import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parent / "output"
PARAMS = dict(n1=5, n2=5, nu2=2.0, g=0.1, beta1=2.0, beta2=0.5, statistics="boson")


def param_text(**extra) -> str:
    p = {**PARAMS, **extra}
    return (
        f"bosons, N1 = {p['n1']}, N2 = {p['n2']}, ν2 = {p['nu2']}, g = {p['g']}, "
        f"β1 = {p['beta1']}, β2 = {p['beta2']}" + "".join(f", {k} = {v}" for k, v in extra.items() if k not in PARAMS)
    )


def write_csv(name: str, columns: dict) -> pathlib.Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.csv"
    keys = list(columns)
    rows = np.column_stack([np.asarray(columns[k], dtype=float).ravel() for k in keys])
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(keys)
        writer.writerows(rows.tolist())
    return path


def save(fig, name: str) -> pathlib.Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.png"
    fig.savefig(path, dpi=130, bbox_inches="tight")
    return path
