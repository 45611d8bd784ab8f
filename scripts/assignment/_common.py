"""Shared parameters and output helpers for the model-C regime scripts (docs/assignment.md).

The reservoirs of [CVS25] are bosons (Colla, Vacchini & Smirne, arXiv:2510.06929); reservoir 1 is cold, reservoir 2 hot.
Outputs (PNG + CSV with named columns) go to OUT_DIR (default ``figures/assignment``); the published ones are in
``scripts/assignment/output/`` (``OUT``).
"""

from __future__ import annotations

import csv
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from _study import default_out, output_dir, published

OUT = published(__file__)
DEFAULT_OUT = default_out(__file__)
PARAMS = dict(n1=5, n2=5, nu2=2.0, g=0.1, beta1=2.0, beta2=0.5, statistics="boson")


def param_text(**extra) -> str:
    p = {**PARAMS, **extra}
    return (
        f"bosons, N1 = {p['n1']}, N2 = {p['n2']}, ν2 = {p['nu2']}, hopping within each reservoir g = {p['g']}, "
        f"β1 = {p['beta1']}, β2 = {p['beta2']}" + "".join(f", {k} = {v}" for k, v in extra.items() if k not in PARAMS)
    )


def write_csv(out, name: str, columns: dict) -> pathlib.Path:
    """``columns`` (name → values, flattened) as ``OUT_DIR/<name>.csv`` with a header row."""
    path = output_dir(out) / f"{name}.csv"
    keys = list(columns)
    rows = np.column_stack([np.asarray(columns[k], dtype=float).ravel() for k in keys])
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(keys)
        writer.writerows(rows.tolist())
    return path


def save(fig, out, name: str) -> pathlib.Path:
    """``fig`` as ``OUT_DIR/<name>.png``."""
    path = output_dir(out) / f"{name}.png"
    fig.savefig(path, dpi=130, bbox_inches="tight")
    return path
