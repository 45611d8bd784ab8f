"""jt.ensemble probes a user's Coupling before the run: a U that is not unitary ran without a word (a
coupling returning 2U: mean heat -7.7 after 5 collisions for -0.0075 with the unitary one)."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.inhomogeneous._model import partial_swap
from tests.helpers import numpy_swap


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class _Scaled(jt.Coupling):
    """The partial swap times (factor + slope·δ): unitary only for factor = 1, slope = 0."""

    factor: float = 1.0
    slope: float = 0.0

    def unitary(self, model, theta, delta):
        return (self.factor + self.slope * delta) * partial_swap(model.d, theta)


RHO0 = np.diag([0.6, 0.4]).astype(complex)


def _model(coupling, theta=0.3):
    return jt.InhomogeneousReservoir(2, 1.0, 1.0, theta, coupling=coupling, distribution=jt.TwoPoint(0.2))


@pytest.mark.parametrize("coupling", [_Scaled(2.0), _Scaled(1.0, 0.5)])
def test_a_coupling_that_is_not_unitary_is_refused(coupling):
    """2U everywhere, and U·(1 + δ/2), unitary at δ = 0 only (the probe's draws of the law find it)."""
    with pytest.raises(ValueError, match="_Scaled.unitary is not unitary"):
        jt.ensemble(_model(coupling), RHO0, 5, 8, alphas=())
    with pytest.raises(ValueError, match="_Scaled.unitary is not unitary"):
        jt.sweep(_model(coupling), RHO0, 5, 8, grid={"theta": [0.2, 0.3]}, alphas=())


def test_a_schedule_is_probed_at_its_angles():
    """A coupling unitary except at θ > 1 (a schedule whose last angle is 1.2)."""

    @jax.tree_util.register_dataclass
    @dataclasses.dataclass(frozen=True)
    class Late(jt.Coupling):
        def unitary(self, model, theta, delta):
            return jax.numpy.where(theta > 1.0, 2.0, 1.0) * partial_swap(model.d, theta)

    with pytest.raises(ValueError, match="Late.unitary is not unitary"):
        jt.ensemble(_model(Late(), np.linspace(0.1, 1.2, 6)), RHO0, 6, 8, alphas=())


def test_a_unitary_user_coupling_runs_as_the_partial_swap():
    """The unitary user coupling passes the probe, and its mean heat of the first collision is the NumPy
    partial swap's, averaged over TwoPoint(0.2) (δ = ±0.2 with probability ½, a hand sum)."""
    res = jt.ensemble(_model(_Scaled()), RHO0, 5, 4096, seed=3, alphas=())
    ref = jt.ensemble(_model(jt.PartialSwap()), RHO0, 5, 4096, seed=3, alphas=())
    np.testing.assert_allclose(res.mean_heat, ref.mean_heat, rtol=1e-12, atol=1e-15)
    u = np.cos(0.3) * np.eye(4) + 1j * np.sin(0.3) * numpy_swap(2)  # the partial swap, cos θ 1 + i sin θ S
    heats = []
    for delta in (0.2, -0.2):
        g = 1.0 + delta  # the Hamiltonian kind: gap g0 (1 + δ) of the reservoir qudit
        q = np.exp(-g * np.arange(2)) / np.sum(np.exp(-g * np.arange(2)))
        x = u @ np.kron(RHO0, np.diag(q)) @ u.conj().T
        rho_a = np.einsum("ijik->jk", x.reshape(2, 2, 2, 2))
        heats.append(-np.real(np.trace(np.diag([0.0, g]) @ (rho_a - np.diag(q)))))
    assert abs(res.mean_heat[0] - np.mean(heats)) < 5 * np.sqrt(res.var_heat[0] / 4096) + 1e-12


def test_a_complex128_unitary_in_a_float32_run():
    """A coupling building U in complex128 (``jnp.eye`` under x64) inside float32 runs: the probe's scan
    carry became float64 and ``trajectory`` / ``jt.ensemble`` died with JAX's "carry input float32[] … output
    float64[]" naming no coupling (helper-73's note). The runs cast U to their precision; the probe now does
    too. Reference: the same coupling returning complex64, whose runs are float32 throughout."""
    import jax.numpy as jnp

    @jax.tree_util.register_dataclass
    @dataclasses.dataclass(frozen=True)
    class Wide(jt.Coupling):
        dtype: str = dataclasses.field(default="complex128", metadata=dict(static=True))

        def unitary(self, model, theta, delta):
            s = jnp.asarray(numpy_swap(model.d))
            return (jnp.cos(theta) * jnp.eye(model.d**2) + 1j * jnp.sin(theta) * s).astype(self.dtype)

    deltas = np.float32([0.1, -0.05, 0.2])
    rho0 = RHO0.astype(np.complex64)
    wide, narrow = _model(Wide()), _model(Wide("complex64"))
    got, want = jt.trajectory(wide, rho0, deltas), jt.trajectory(narrow, rho0, deltas)
    assert got.heat.dtype == np.float32
    np.testing.assert_allclose(got.heat, want.heat, rtol=1e-6, atol=1e-9)
    res = jt.ensemble(wide, RHO0, 3, 16, dtype=np.float32, alphas=())
    ref = jt.ensemble(narrow, RHO0, 3, 16, dtype=np.float32, alphas=())
    assert res.mean_heat.dtype == np.float32
    np.testing.assert_allclose(res.mean_heat, ref.mean_heat, rtol=1e-6, atol=1e-9)
