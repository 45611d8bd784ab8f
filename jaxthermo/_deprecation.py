"""Deprecated names keep working, with a ``DeprecationWarning`` that names the replacement."""

from __future__ import annotations

import functools
import warnings


def warn_deprecated(old: str, new: str, stacklevel: int = 3) -> None:
    """Warn that ``old`` is deprecated in favour of ``new``."""
    warnings.warn(f"{old} is deprecated; use {new} instead", DeprecationWarning, stacklevel=stacklevel)


def deprecated_alias(func, old: str, new: str):
    """``func`` under its old public name ``old``: same behaviour, plus a ``DeprecationWarning``."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        warn_deprecated(old, new)
        return func(*args, **kwargs)

    wrapper.__doc__ = f"Deprecated alias of :func:`{new}`.\n\n" + (func.__doc__ or "")
    return wrapper


def renamed_keyword(kwargs: dict, old: str, new: str, func_name: str) -> dict:
    """Move a deprecated keyword argument ``old`` to ``new`` in ``kwargs`` (with a warning)."""
    if old in kwargs:
        if new in kwargs:
            raise TypeError(f"{func_name}() got both {old}= (deprecated) and {new}=")
        warn_deprecated(f"{func_name}({old}=...)", f"{func_name}({new}=...)", stacklevel=4)
        kwargs[new] = kwargs.pop(old)
    return kwargs
