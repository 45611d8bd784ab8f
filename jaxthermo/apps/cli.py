"""The ``jaxthermo`` command: ``jaxthermo demo`` (the main job) and ``jaxthermo figures``."""

from __future__ import annotations

import argparse
import sys

from ._plotting import MissingPlotDependency, require_matplotlib


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="jaxthermo", description="Quantum thermodynamics of collisional models.")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="model-A ensemble on the embedded default; prints a table, writes a plot")
    demo.add_argument("--out", default="demo-output", help="directory for the PNG and CSV (default: demo-output)")
    demo.add_argument("--configs", type=int, default=10_000, help="number of reservoir configurations")
    demo.add_argument("--steps", type=int, default=100, help="collisions per configuration N")
    demo.add_argument("--seed", type=int, default=0)

    figures = sub.add_parser("figures", help="regenerate every figure of the model-A papers (PNG + CSV)")
    figures.add_argument("--out", default="figures", help="output directory")
    figures.add_argument("--only", default=None, help="comma-separated figure names")

    args = parser.parse_args(argv)
    try:
        require_matplotlib()  # both commands plot: say so before minutes of computing
        if args.command == "demo":
            from .demo import run_demo

            return run_demo(out=args.out, n_configs=args.configs, n_steps=args.steps, seed=args.seed)
        if args.command == "figures":
            from .figures import main as figures_main

            return figures_main(out=args.out, only=args.only)
    except MissingPlotDependency as err:
        print(f"jaxthermo {args.command}: {err}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
