"""The ensemble's partial-swap qudit path (d ≥ 3), the state as d² real rows (jaxthermo.ensemble._fused):
one collision against the full density matrix (U (ρ ⊗ τ) U†, partial trace), and the engine's statistics
against the same engine on the (d, d) complex matrix route."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble import _engine, _layout
from jaxthermo.ensemble._fused import qudit_collision, rows_to_state, state_to_rows, use_fused_qudit_path
from jaxthermo.inhomogeneous import collide_generic
from tests.helpers import random_state


@pytest.mark.parametrize("d", [3, 4, 6])
@pytest.mark.parametrize("kind", ["hamiltonian", "temperature"])
@pytest.mark.parametrize("theta", [0.3, 1.2, np.pi / 2])  # sin²θ below and above ½, the full swap
def test_collision_equals_full_density_matrix(d, kind, theta):
    """Rows and energetics of one collision against collide_generic's U (ρ ⊗ τ) U† for random coherent states."""
    rng = np.random.default_rng(d + int(10 * theta))
    model = jt.InhomogeneousReservoir(d, 0.7, 1.3, theta, kind=kind)
    assert use_fused_qudit_path(model)
    for _ in range(4):
        rho, delta = random_state(d, rng), 0.4 * rng.normal()
        ref = collide_generic(model, rho, delta)
        rows, e = jax.jit(lambda r, dl: qudit_collision(model, state_to_rows(r), dl, jnp.float64(theta)))(
            jnp.asarray(rho), jnp.float64(delta)
        )
        np.testing.assert_allclose(rows_to_state(rows), ref.system, atol=2e-15)
        for name in ("work", "heat", "energy_change"):
            np.testing.assert_allclose(getattr(e, name), getattr(ref.energetics, name), atol=2e-15)


def test_rows_round_trip_and_layout():
    """state_to_rows → rows_to_state is the identity on a batch; rows are p_j, then Re and Im of ρ_ij, i < j."""
    rho = np.stack([random_state(4, np.random.default_rng(s)) for s in range(5)])
    rows = state_to_rows(jnp.asarray(rho))
    assert len(rows) == 16 and all(r.shape == (5,) and r.dtype == jnp.float64 for r in rows)
    np.testing.assert_array_equal(rows_to_state(rows), rho)
    np.testing.assert_array_equal(rows[1], rho[:, 1, 1].real)
    np.testing.assert_array_equal(rows[4 + 2], rho[:, 0, 3].real)  # pairs (0,1), (0,2), (0,3), …
    np.testing.assert_array_equal(rows[4 + 6 + 3], rho[:, 1, 2].imag)
    assert not use_fused_qudit_path(jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3))
    assert not use_fused_qudit_path(jt.InhomogeneousReservoir(3, 1.0, 1.0, 0.3, coupling=jt.ExactUnitary(2.0)))


def _arrays(res):
    out = {f.name: np.asarray(getattr(res, f.name)) for f in dataclasses.fields(res)}
    out = {k: v for k, v in out.items() if v.dtype != object and k != "alphas"}
    for name in ("work_histogram", "collision_work_histogram"):
        h = getattr(res, name)
        out[name] = np.concatenate([h.edges, h.counts, [h.underflow, h.overflow]])
    for name, s in (res.sensitivity or {}).items():
        out.update({(name, f): np.asarray(getattr(s, f)) for f in dir(s) if f.startswith(("mean_", "var_"))})
    return out


@pytest.mark.parametrize(
    "d, coherent, wrt", [(3, True, None), (3, False, ("theta", "g0")), (4, True, ("theta", "sigma"))]
)
def test_engine_rows_equal_matrix_route(d, coherent, wrt, monkeypatch):
    """Every statistic (D_α for α = ½, 1, 2, ∞, histograms, sensitivities) of the rows path equals the (d, d)
    complex matrix route's to rounding (1e-12 of each field's scale; counts identical)."""
    model = jt.InhomogeneousReservoir(d, 1.0, 1.0, 0.4, distribution=jt.Gaussian(0.2))
    rho0 = random_state(d, np.random.default_rng(7))
    if not coherent:
        rho0 = np.diag(np.diag(rho0))
    kw = dict(seed=5, alphas=(0.5, 1.0, 2.0, float("inf")), wrt=wrt)
    got = _arrays(jt.ensemble(model, rho0, 15, 300, **kw))
    monkeypatch.setattr(_layout, "use_fused_qudit_path", lambda m: False)
    monkeypatch.setattr(_engine, "_COMPILED", {})  # a fresh trace, not the rows program compiled above
    ref = _arrays(jt.ensemble(model, rho0, 15, 300, **kw))
    assert got.keys() == ref.keys()
    for k, r in ref.items():
        g = got[k]
        np.testing.assert_array_equal(np.isfinite(g), np.isfinite(r), err_msg=str(k))
        fin = np.isfinite(r)
        scale = np.max(np.abs(r[fin]), initial=0.0) or 1.0
        np.testing.assert_allclose(g[fin], r[fin], rtol=0, atol=1e-12 * scale, err_msg=str(k))
