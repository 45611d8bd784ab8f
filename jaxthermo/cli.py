"""Deprecated location of the ``jaxthermo`` command; it lives in :mod:`jaxthermo.apps.cli`."""

import sys

from ._deprecation import deprecated_alias
from .apps.cli import main as _main

main = deprecated_alias(_main, "jaxthermo.cli.main", "jaxthermo.apps.cli.main")

if __name__ == "__main__":
    sys.exit(main())
