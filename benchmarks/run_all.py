"""``make bench``: run every ``benchmarks/bench_*.py`` in turn, each in its own process.

Scripts ending in ``_gpu.py`` run only when JAX sees a GPU. Each script prints its figures and
writes its own results; ``RESULTS_<area>.md`` files record them with machine, date and command.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _has_gpu() -> bool:
    code = "import jax; print(jax.default_backend())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return out.stdout.strip() == "gpu"


def main() -> int:
    scripts = sorted(glob.glob(os.path.join(HERE, "bench_*.py")))
    gpu = _has_gpu()
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    failed = []
    for script in scripts:
        name = os.path.basename(script)
        if name.endswith("_gpu.py") and not gpu:
            print(f"--- {name}: skipped (no GPU)")
            continue
        print(f"--- {name}", flush=True)
        t = time.perf_counter()
        code = subprocess.call([sys.executable, script], env=env, cwd=ROOT)
        print(f"--- {name}: exit {code} after {time.perf_counter() - t:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
