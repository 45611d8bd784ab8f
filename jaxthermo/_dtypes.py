"""Dtype policy.

jaxthermo computes in float64/complex128 by default: importing the package turns on
``jax_enable_x64`` (documented in the README). float32/complex64 is selected per call by passing
float32 inputs (or ``dtype=jnp.float32`` to the ensemble engine); every function keeps the
precision of its inputs and never promotes silently.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def real_dtype():
    """The default real dtype: float64 when x64 is on, else float32."""
    return jnp.float64 if jax.config.jax_enable_x64 else jnp.float32


def float_dtype_of(*arrays):
    """The floating dtype of the inputs (float32 stays float32), the default real dtype for integers."""
    dtype = jnp.result_type(*arrays)
    return dtype if jnp.issubdtype(dtype, jnp.floating) else real_dtype()


def complex_dtype_for(dtype):
    """The complex dtype with the precision of ``dtype`` (float32 -> complex64)."""
    dtype = jnp.dtype(dtype)
    if jnp.issubdtype(dtype, jnp.complexfloating):
        return dtype
    if dtype == jnp.float32 or dtype == jnp.float16 or dtype == jnp.bfloat16:
        return jnp.complex64
    if jnp.issubdtype(dtype, jnp.floating):
        return jnp.complex128
    return jnp.complex128 if jax.config.jax_enable_x64 else jnp.complex64


def real_dtype_for(dtype):
    """The real dtype with the precision of ``dtype`` (complex64 -> float32)."""
    dtype = jnp.dtype(dtype)
    if dtype == jnp.complex64:
        return jnp.float32
    if dtype == jnp.complex128:
        return jnp.float64
    if jnp.issubdtype(dtype, jnp.floating):
        return dtype
    return real_dtype()


def as_state(rho, dtype=None):
    """A density matrix as a complex array with the precision of its input (or ``dtype``); a
    QuTiP ``Qobj`` is converted (:func:`jaxthermo._qutip.as_array`)."""
    from ._qutip import as_array

    rho = jnp.asarray(as_array(rho, "rho"))
    target = complex_dtype_for(rho.dtype if dtype is None else dtype)
    return rho.astype(target)


def as_complex(x, cdt):
    """``x`` as an array of the complex dtype ``cdt``."""
    return jnp.asarray(x).astype(cdt)


def as_real(x, cdt):
    """``x`` as a real array with the precision of the complex dtype ``cdt``."""
    return jnp.asarray(x).astype(real_dtype_for(cdt))


def run_dtype_of(rho):
    """The real dtype of a run started from the state ``rho``: float32 for a float32/complex64 (or
    narrower) state, else the default (float64 under x64). Model A's rule: the state's precision
    sets the run's, whatever the precision of the model's scalars (a Python β included)."""
    dtype = real_dtype_for(jnp.asarray(rho).dtype)
    return jnp.dtype(jnp.float32) if jnp.finfo(dtype).bits <= 32 else jnp.dtype(real_dtype())


def cast_floats(tree, dtype):
    """``tree`` (a model, a law) with every floating leaf cast to ``dtype``; other leaves as they are.
    Used where the state's precision sets the run's (a Python-float β with a float32 state)."""
    return jax.tree.map(
        lambda x: jnp.asarray(x).astype(dtype) if jnp.issubdtype(jnp.asarray(x).dtype, jnp.floating) else x, tree
    )
