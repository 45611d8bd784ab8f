"""Regenerate model-A figure `fig5` (PNG + CSV) via jaxthermo.inhomogeneous.figures.

Parameters: βg0 = 1 (a = e^{-1}), σ = 0.02 for the work/heat distributions; the choices the papers
leave out (θ, the p0 values of seed 001 Figs. 1-3, θ and N of Fig. 5) are in
`jaxthermo.inhomogeneous.figures.CHOSEN` and printed on the plot.

Usage: python scripts/inhomogeneous/fig5.py [OUT_DIR] [--quick]
"""

import sys

from jaxthermo.inhomogeneous.figures import main

if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--quick"]
    sys.exit(main(out=args[0] if args else "figures", only="fig5", quick="--quick" in sys.argv))
