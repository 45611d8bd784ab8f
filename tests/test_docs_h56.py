"""Numbers quoted in docs/*.md, recomputed by an independent route (decimal arithmetic)."""

import pathlib
import re
from decimal import Decimal

import numpy as np

import jaxthermo as jt

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"


def test_information_petz_half_of_a_cold_qubit_against_the_maximally_mixed_state():
    """docs/information.md §4: ρ thermal at βΔE = 30 against I/2, D_½ = −2 log((√p0 + √p_small)/√2) = log 2 − 2√p_small
    + O(p_small): the dropped term is 2√p_small (6.1e-7), not the 2√(p_small/2) (4.3e-7) the page said."""
    text = (DOCS / "information.md").read_text()
    m = re.search(r"D_½ = log 2 = ([0-9.]+) instead of ([0-9.]+) \(the dropped 2√p_small = ([0-9.]+)·10⁻⁷\)", text)
    assert m, "the sentence on D_½ of a cold qubit changed"
    quoted_log2, quoted, dropped = float(m[1]), Decimal(m[2]), float(m[3]) * 1e-7
    p_small = Decimal(-30).exp() / (1 + Decimal(-30).exp())
    exact = -2 * (((1 - p_small).sqrt() + p_small.sqrt()) * (Decimal(1) / 2).sqrt()).ln()
    assert abs(quoted_log2 - float(Decimal(2).ln())) < 1e-11
    assert abs(quoted - exact) < Decimal("1e-11")
    assert abs(float(Decimal(2).ln() - exact) - dropped) < 0.05e-7
    assert abs(float(2 * p_small.sqrt()) - dropped) < 0.05e-7
    rho = jt.thermal_state(2, 30.0, 1.0)
    assert abs(float(jt.petz_renyi_divergence(rho, np.eye(2) / 2, 0.5)) - float(exact)) < 1e-15


def test_optimise_chi_docstring_states_the_margin_the_script_uses():
    """scripts/coherent/optimise_chi.py said κ = 0.5 in its docstring (its --help) while running κ = 0.2 (the figure's
    title and the printed ρ_A bound (1 − κ) min p_j said 0.2)."""
    text = (DOCS.parent / "scripts" / "coherent" / "optimise_chi.py").read_text()
    documented = float(re.search(r"κ = ([0-9.]+) \(a radial map", text)[1])
    used = float(re.search(r"BETA, LAM, TAU, KAPPA, G = [^,]+, [^,]+, [^,]+, ([0-9.]+),", text)[1])
    assert documented == used == 0.2
