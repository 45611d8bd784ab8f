"""Beyond the papers: error of the fixed partial swap vs σ, g_int and d ([ATO-preprint] App. A1).

θ = 0.7, βg0 = 1, Gaussian G(δ); x = σ g0 (d − 1)/(2 g_int) on the horizontal axis.
Usage: python scripts/inhomogeneous/partial_swap_validity.py [OUT_DIR] [--quick]
"""

import sys

from jaxthermo.apps.figures import run_script

if __name__ == "__main__":
    sys.exit(run_script("partial_swap_validity", description=__doc__))
