"""Float32 accuracy of the mean-state functionals of ``jt.ensemble``: D_α(ρ̄_r‖τ_S), D(ρ̄_r, τ̄), D(ρ̄_r, τ_S).

A user pass found them ~1e-4 relative off the float64 run for ρ0 = τ_S (README promises ~1e-6 for
float32 ensemble statistics). Not a defect of ``_assemble``'s cast: the float32 run's ρ̄_r is known only to
about one float32 ulp of its O(1) populations (ρ0 rounded to float32, ½ ulp; the chunk's float32 mean of
O(1) entries, reduced on the device; measured 0.55–0.74 ε₃₂ against the float64 run), and the float64
host accumulators hold that float32 chunk mean unchanged (one chunk) — evaluating the functionals from them
in float64 gave 9.5·10⁻⁵ instead of 1.3·10⁻⁴. Near τ_S these functionals are small differences of O(1)
populations (≈ 5·10⁻⁴ here), so an absolute error of ~ε₃₂ is ~10⁻⁴ of them; the float64 run started from
τ_S rounded to float32 alone moves them by 2–3·10⁻⁵ relative.

The tolerance is therefore derived from that rounding: each population of ρ̄_r may be off by
η = ε₃₂ (one ulp at 1, ≈ 1.4× the largest error measured), and each functional may move by twice what
a population shift of ±η (trace kept) moves it in float64 — η for a trace distance, η/p_min for D_∞ —
plus its own float32 rounding. The same check holds far from τ_S (there it is ~1e-6 relative), and every
field stays float32.
"""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
import jaxthermo.inhomogeneous as A

EPS32 = float(np.finfo(np.float32).eps)
ALPHAS = (1.0, float("inf"))
FIELDS = ("mean_state_divergence", "mean_state_trace_distance", "mean_state_thermal_trace_distance")


def _functionals(model, states, tau_bar, tau_s):
    """The three fields evaluated in float64 on ``states`` (..., 2, 2)."""
    with jt.config.override(validate="off"):  # perturbed states carry rounding-size trace errors
        return (
            np.asarray(A.divergences_to_thermal(model, states, ALPHAS)),
            np.asarray(jt.trace_distance(states, tau_bar)),
            np.asarray(jt.trace_distance(states, tau_s)),
        )


def _tolerances(model, r64, eta):
    """Twice the float64 change of each field under a population shift of ±η of ρ̄_r (trace kept), plus
    the float32 rounding of the field itself."""
    rho = jnp.asarray(r64.mean_state, jnp.complex128)
    tau_bar = jnp.asarray(r64.averaged_reservoir_state, jnp.complex128)
    tau_s = jt.thermal_state(2, model.beta, model.g0)
    base = _functionals(model, rho, tau_bar, tau_s)
    shift = eta * jnp.diag(jnp.array([1.0, -1.0], jnp.complex128))
    moved = [_functionals(model, rho + s * shift, tau_bar, tau_s) for s in (1.0, -1.0)]
    return [
        2 * np.maximum(np.abs(up - b), np.abs(down - b)) + EPS32 * np.abs(b)
        for b, up, down in zip(base, *moved, strict=True)
    ]


@pytest.mark.parametrize("rho_beta", [1.0, 0.3], ids=["rho0=tau_S", "rho0 hotter"])
def test_mean_state_functionals_agree_with_float64_to_float32_rounding(rho_beta):
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.1))
    rho0 = jt.thermal_state(2, rho_beta, 1.0)
    r64 = jt.ensemble(model, rho0, 20, 1001, seed=11, alphas=ALPHAS)
    r32 = jt.ensemble(model, rho0.astype(jnp.complex64), 20, 1001, seed=11, alphas=ALPHAS)
    assert r32.mean_state.dtype == np.complex64
    for name, tol in zip(FIELDS, _tolerances(model, r64, EPS32), strict=True):
        got, ref = getattr(r32, name), getattr(r64, name)
        assert got.dtype == np.float32, f"{name} is {got.dtype}"
        err = np.abs(got.astype(np.float64) - ref)
        worst = np.unravel_index(np.argmax(err - tol), err.shape)
        assert np.all(err <= tol), f"{name}{list(worst)}: |Δ| = {err[worst]:.2e} > {tol[worst]:.2e}"
