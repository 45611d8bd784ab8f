"""``python -m jaxthermo.verify``: recompute published numbers and identities, one line per check.

The runner and the checks live in :mod:`jaxthermo.apps.verify`; this module is the command's
entry point. ``Check``, ``collect`` and ``CHECK_MODULES`` still resolve here, deprecated.
"""

import sys

from .apps.verify import main as main

_MOVED = ("Check", "collect", "CHECK_MODULES")


def __getattr__(name):
    if name in _MOVED:
        from . import apps
        from ._deprecation import warn_deprecated

        warn_deprecated(f"jaxthermo.verify.{name}", f"jaxthermo.apps.verify.{name}")
        return getattr(apps.verify, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    sys.exit(main())
