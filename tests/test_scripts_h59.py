"""The scripts of scripts/: their closed-form references, their --quick runs and their default outputs."""

import importlib.util
import pathlib
import re
from decimal import Decimal, localcontext

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"


def _load(area, name):
    spec = importlib.util.spec_from_file_location(f"h59_{area}_{name}", SCRIPTS / area / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _alpha_inf_maximiser():
    """argmax_δ of ΔF_∞ − W for max_violation.py's collision (θ = 0.8, β = g0 = 1, ρ = τ_S at β' = 2), in
    50-digit decimal arithmetic: ΔF_∞ = ln(p'_0/p_0) (p'_0/τ_0 is the largest ratio for δ > δ* = 1),
    W = δ s (p_1 − q), p'_0 = p_0 + s (p_1 − q), q = 1/(1 + e^{1+δ}), s = sin²θ; the root of
    d/dδ = s [q(1 − q)/p'_0 − (p_1 − q) − δ q(1 − q)] by bisection on (1, 1.13)."""
    with localcontext() as ctx:
        ctx.prec = 50
        x, sin, n = Decimal("0.8"), Decimal(0), 1
        term = x
        while abs(term) > Decimal(10) ** -55:  # Taylor series of sin 0.8
            sin += term
            term = -term * x * x / ((n + 1) * (n + 2))
            n += 2
        s = sin * sin
        p1 = 1 / (1 + Decimal(2).exp())

        def slope(d):
            q = 1 / (1 + (1 + d).exp())
            return q * (1 - q) / (1 - p1 + s * (p1 - q)) - (p1 - q) - d * q * (1 - q)

        lo, hi = Decimal("1.0000001"), Decimal("1.13")
        assert slope(lo) > 0 > slope(hi)
        for _ in range(120):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if slope(mid) > 0 else (lo, mid)
        return (lo + hi) / 2


def test_max_violation_closed_form_maximiser_at_alpha_infinity_to_1e_12():
    """The closed-form reference of max_violation.py maximised the value with a bounded scalar search, which
    stops ~1e-8 short on a flat maximum: 1.06466049 for the α = ∞ maximiser 1.06466051 (decimal root of the
    slope), so README quoted 1.064660; now brentq on the analytic slope, within 1e-12 for α = ∞, 2, 3."""
    pytest.importorskip("optax")
    pytest.importorskip("scipy")
    module = _load("inhomogeneous", "max_violation")
    exact = _alpha_inf_maximiser()
    arg, best, star, upper = module.closed_form_reference(float("inf"))
    assert abs(arg - float(exact)) < 1e-12
    assert star < arg < upper and best > 0
    for alpha in (2.0, 3.0):  # the slope's root is the maximum of the value (central differences)
        arg, best, *_ = module.closed_form_reference(alpha)
        for h in (1e-4, 1e-3):
            assert module.closed_form_violation(arg + h, alpha) < best > module.closed_form_violation(arg - h, alpha)
        slope = (
            module.closed_form_violation(arg + 1e-5, alpha) - module.closed_form_violation(arg - 1e-5, alpha)
        ) / 2e-5
        assert abs(slope) < 1e-9
    readme = (ROOT / "README.md").read_text()
    quoted = re.search(r"α = ∞: δ = [0-9.]+ \(([0-9.]+)\)", readme)[1]
    assert Decimal(quoted) == exact.quantize(Decimal(quoted)), quoted
