"""Beyond the papers: error of the fixed partial swap vs σ, g_int and d (seed 000 App. A1).

θ = 0.7, βg0 = 1, Gaussian G(δ); x = σ g0 (d − 1)/(2 g_int) on the horizontal axis.
Usage: python scripts/inhomogeneous/partial_swap_validity.py [OUT_DIR] [--quick]
"""

import sys

from jaxthermo.inhomogeneous.figures import validity_study

if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--quick"]
    validity_study(out=args[0] if args else "figures", quick="--quick" in sys.argv)
