"""Package settings: ``jaxthermo.config`` (README: validation policy).

``config.validate`` decides what happens to invalid values:

* ``"always"``: concrete inputs are checked at once (``ValueError`` naming the
  parameter); inside ``jit``/``vmap``/``grad``, where inputs are tracers, the cheap checks (a
  non-finite δ or state, a state with a negative eigenvalue or trace ≠ 1, an ancilla state made
  non-positive by λ) run on the device and stop the computation with an error naming the
  parameter (``jax.debug.callback``; the error surfaces as JAX's runtime error carrying the message).
* ``"eager"`` (default): concrete inputs are checked; traced values are not. It is the default
  because the staged callbacks of ``"always"`` made XLA's compiler abort the process for some
  programs that take ``jax.grad`` through chunked, checkpointed scans (seen with the ensemble
  objective on jax 0.10.2) and made compiling a vmapped 20 000-configuration frozen ensemble take
  more than 12 GB; until that is understood the strict mode is opt-in.
* ``"off"``: no check that needs the values: states, populations and δ are not inspected, and
  constructors skip their Hermiticity, positivity and λ-range decompositions; types, shapes,
  batch axes and cheap scalar ranges are still checked (README, "Validation and files").

The setting is read when a function is traced: set it before the first call of a jitted
function (a cached trace keeps the setting it was traced with). ``config.override(validate=...)``
changes it for a ``with`` block. The ensemble engine checks its inputs once, eagerly, and traces
its kernels with ``"eager"`` (the draws of a validated law need no runtime check).
"""

from __future__ import annotations

import contextlib
import threading

VALIDATE_MODES = ("always", "eager", "off")


class Config:
    """Settings of the package (one instance: ``jaxthermo.config``)."""

    def __init__(self):
        self._local = threading.local()
        self._default = {"validate": "eager"}

    def _get(self, name):
        return getattr(self._local, name, self._default[name])

    @property
    def validate(self) -> str:
        """``"always"``, ``"eager"`` or ``"off"`` (module docstring)."""
        return self._get("validate")

    @validate.setter
    def validate(self, value: str) -> None:
        self._default["validate"] = _check_mode(value)

    @contextlib.contextmanager
    def override(self, **settings):
        """Change settings in this thread for a ``with`` block, e.g. ``config.override(validate="off")``."""
        for name, value in settings.items():
            if name != "validate":
                raise ValueError(f"{name}: unknown setting; jaxthermo.config has 'validate'")
            _check_mode(value)
        old = {name: getattr(self._local, name, None) for name in settings}
        for name, value in settings.items():
            setattr(self._local, name, value)
        try:
            yield self
        finally:
            for name, value in old.items():
                if value is None:
                    delattr(self._local, name)
                else:
                    setattr(self._local, name, value)

    def __setattr__(self, name, value):
        """Only the settings (and the instance's own slots) can be set: ``config.valdiate = "off"``
        used to add an attribute nothing reads, leaving validation on without a word."""
        if name not in ("_local", "_default", "validate"):
            raise AttributeError(f"jaxthermo.config has no setting {name!r}; its settings: 'validate'")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"jaxthermo.config(validate={self.validate!r})"


def _check_mode(value):
    if value not in VALIDATE_MODES:
        raise ValueError(f"validate={value!r}: must be one of {list(VALIDATE_MODES)}")
    return value


config = Config()
