"""Ensemble analytics of model A: the averaged reservoir state and small-δ expansions (SPEC §3).

All functions take the model (d, β, g0, θ, kind) and a distribution G(δ) (``Gaussian``,
``Uniform``, ``TwoPoint``, ``Empirical``) and integrate over G by its own quadrature or exact sum.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._model import InhomogeneousReservoir, reservoir_populations


def averaged_reservoir_populations(model: InhomogeneousReservoir, distribution):
    """Populations of τ̄ = ∫ G(δ) τ(δ) dδ (SPEC §3), shape (d,).

    Seed 000 eq. (10): an ensemble of configurations drawn afresh acts as if every reservoir qudit
    were in τ̄. For qubits τ̄ is thermal at a higher temperature; for d > 2 in general it is not.
    """
    return distribution.expectation(lambda deltas: reservoir_populations(model, deltas))


def averaged_reservoir_state(model: InhomogeneousReservoir, distribution):
    """τ̄ as a real diagonal (d, d) matrix."""
    q = averaged_reservoir_populations(model, distribution)
    return q[:, None] * jnp.eye(model.d, dtype=q.dtype)


def population_derivatives_closed_form(model: InhomogeneousReservoir):
    """``q_j'(0)`` in closed form (SPEC §3, from seed 000 eq. (13)), shape (d,).

    ``q_j'(0) = −βg0 a^j/(1−a^d)² [ j − (1+j)a + (d−j)a^d − (d−j−1)a^{d+1} ]``, ``a = e^{−βg0}``.
    """
    d = model.d
    bg = jnp.asarray(model.beta) * jnp.asarray(model.g0)
    a = jnp.exp(-bg)
    j = jnp.arange(d, dtype=a.dtype)
    bracket = j - (1 + j) * a + (d - j) * a**d - (d - j - 1) * a ** (d + 1)
    return -bg * a**j / (1 - a**d) ** 2 * bracket


def population_derivatives(model: InhomogeneousReservoir):
    """``(q'(0), q''(0))``: first and second δ-derivatives of the reservoir populations at δ = 0.

    By forward-mode autodiff of :func:`reservoir_populations`; the closed form of ``q'(0)`` is
    :func:`population_derivatives_closed_form` (the tests compare the two).
    """
    dtype = jnp.result_type(jnp.asarray(model.beta).dtype, jnp.asarray(model.g0).dtype)
    q = lambda delta: reservoir_populations(model, delta)  # noqa: E731
    dq = jax.jacfwd(q)
    zero = jnp.zeros((), dtype)
    return dq(zero), jax.jacfwd(dq)(zero)


def small_delta_mean_work(model: InhomogeneousReservoir, variance):
    """Mean work per collision to order σ² (SPEC §3; seed 000 eq. (15)), Hamiltonian kind.

    ``W̄_r = −g0 σ² sin²θ Σ_j j q_j'(0)``; for qubits ``g0 q0'(0) σ² sin²θ > 0``. It does not
    depend on r or on the system state. Zero for the temperature kind (no work is generated).
    """
    if model.kind == "temperature":
        return jnp.zeros(())
    dq = population_derivatives_closed_form(model)
    j = jnp.arange(model.d, dtype=dq.dtype)
    s2 = jnp.sin(jnp.asarray(model.theta)) ** 2
    return -jnp.asarray(model.g0) * variance * s2 * jnp.sum(j * dq)
