"""The stroboscopic map approaches the master equation as τ → 0 at fixed total time; the order is
measured (linear for the qubit example). docs/coherent.md, continuous-time limit."""

import jax
import jax.numpy as jnp
import numpy as np

import jaxthermo as jt
from jaxthermo.coherent import qubit_example
from tests.coherent.helpers import random_model_arrays
from tests.helpers import random_state

_trajectory = jax.jit(jt.stroboscopic_trajectory, static_argnums=2)


def _final_errors(model, rho0, total_time, ns):
    exact = jt.propagate(model, rho0, jnp.array([total_time]))[-1]
    errs = []
    for n in ns:
        m = model.replace(tau=total_time / n)
        errs.append(float(jnp.max(jnp.abs(_trajectory(m, rho0, n).states[-1] - exact))))
    return np.array(errs)


def test_qubit_example_converges_linearly_in_tau():
    model = qubit_example(lam=0.5, beta=0.7)
    rho0 = jnp.array([[0.2, 0.3 - 0.1j], [0.3 + 0.1j, 0.8]])
    ns = np.array([25, 50, 100, 200])
    errs = _final_errors(model, rho0, 2.0, ns)
    order = -np.polyfit(np.log(ns), np.log(errs), 1)[0]
    assert 0.97 < order < 1.03, (errs, order)
    # error × N is constant: the O(τ) coefficient is converged
    np.testing.assert_allclose(errs * ns, errs[-1] * ns[-1], rtol=0.05)


def test_random_models_converge_to_their_master_equation():
    """Generic models converge too, with an order that depends on the ancilla's coherence. With
    V = Σ L ⊗ B + h.c., the per-collision map has an O(τ^{3/2}) term λ Tr_A[V(ρ⊗χ)V − ½{V², ρ⊗χ}],
    which contains Tr(B²χ)·L†ρL†-type pieces. For a qubit ancilla B² = 0, so it vanishes: order 1
    (the qubit example). For a qutrit ancilla B² reaches 0 → 2, and a χ with a 0↔2 coherence makes
    it non-zero: the global error at fixed time is O(τ^{1/2}). (Measured in
    scripts/coherent/convergence.py: with χ_02 = 0 or λ = 0 the same qutrit model has order 1.)"""
    rng = np.random.default_rng(130)
    for dims, expected_order in (((2, 3), 0.5), ((3, 2), 1.0)):
        model = jt.CoherentCollisionModel(**random_model_arrays(*dims, rng, lam_fraction=0.3, tau=1e-2))
        rho0 = random_state(dims[0], rng)
        ns = np.array([50, 100, 200, 400])
        errs = _final_errors(model, rho0, 1.0, ns)
        order = -np.polyfit(np.log(ns), np.log(errs), 1)[0]
        assert np.all(np.diff(errs) < 0) and abs(order - expected_order) < 0.12, (dims, errs, order)
