"""Host-side functions (a Python loop, NumPy results, a check of values) called under a JAX transformation."""

import jax


def check_untraced(function: str, instead: str, **arguments) -> None:
    """``TypeError`` naming the first traced entry of ``arguments`` (e.g. ``model.theta``) of a host-driven
    ``function`` (a loop in Python, NumPy results, a check of values), with what to do ``instead``:
    under ``jax.grad``, ``jax.jit`` or ``jax.vmap`` it failed deep inside with JAX's TracerArrayConversionError."""
    for name, value in arguments.items():
        for path, leaf in jax.tree_util.tree_flatten_with_path(value)[0]:
            if isinstance(leaf, jax.core.Tracer):
                raise TypeError(
                    f"{function}: {name}{jax.tree_util.keystr(path)} is traced (inside jax.grad, jax.jit or "
                    f"jax.vmap), but {function} runs on the host; {instead}"
                )
