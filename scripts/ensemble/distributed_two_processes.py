"""Several hosts through ``jax.distributed``: two processes on one machine, 2 CPU devices each.

Run:  python scripts/ensemble/distributed_two_processes.py

The launcher starts two worker processes (``--worker 0`` and ``--worker 1``). Each calls
``jax.distributed.initialize`` (coordinator on localhost), after which ``jax.devices()`` lists the
4 devices of both processes; ``jaxthermo.ensemble`` builds its mesh over all of them, so each
process computes the configurations of its own devices and the per-device reductions are
gathered across processes (CPU collectives through gloo). Process 0 writes the result. The
launcher then runs the same ensemble in a single process with 4 local devices and checks that
every statistic of the two result files agrees to rounding and the histograms exactly. On a
cluster, run one worker per host with the real coordinator address and process count (or let
``jax.distributed.initialize()`` read them from SLURM/Open MPI).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)  # this checkout's jaxthermo, also in the launcher process
N_STEPS, N_CONFIGS, SEED, CHUNK = 50, 20_000, 7, 4096


def _run(out_path):
    import numpy as np

    import jaxthermo as jt

    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, distribution=jt.Gaussian(0.05))
    res = jt.ensemble(model, jt.thermal_state(2, 1.0, 1.0), N_STEPS, N_CONFIGS, SEED, chunk_size=CHUNK)
    import jax

    if jax.process_index() == 0:
        jt.save_result(out_path, res)
        print(f"process 0 of {jax.process_count()}: {res.info['n_devices']} devices, <W_N> = {res.mean_total_work:.6e}")
    return np.asarray(res.mean_work)


def worker(index, port, out_path):
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=f"localhost:{port}", num_processes=2, process_id=index)
    print(
        f"process {jax.process_index()}: local devices {len(jax.local_devices())}, global devices {len(jax.devices())}"
    )
    _run(out_path)
    jax.distributed.shutdown()


def launcher():
    """Two workers, then one process; 0 when they agree. The result files go to a temporary folder that is
    removed afterwards (it used to stay behind in /tmp, one per run)."""
    with tempfile.TemporaryDirectory(prefix="jaxthermo-dist-") as tmp:
        return _launch(tmp)


def _launch(tmp):
    import numpy as np

    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    dist_path, single_path = os.path.join(tmp, "two_processes.npz"), os.path.join(tmp, "one_process.npz")
    # CPU devices on purpose (also on a GPU machine, where two processes would share one GPU).
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), JAX_PLATFORMS="cpu")
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", str(i), "--port", str(port), "--out", dist_path], env=env
        )
        for i in range(2)
    ]
    codes = [p.wait(timeout=600) for p in procs]
    if any(codes):
        print(f"workers failed: exit codes {codes}")
        return 1
    env_single = dict(env, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    code = subprocess.call([sys.executable, __file__, "--single", "--out", single_path], env=env_single)
    if code:
        return code
    import jaxthermo as jt

    a, b = jt.load_result(dist_path), jt.load_result(single_path)
    diff = float(np.max(np.abs(a.mean_work - b.mean_work)) / np.max(np.abs(b.mean_work)))
    same_hist = bool(np.array_equal(a.work_histogram.counts, b.work_histogram.counts))
    print(
        f"two processes vs one process: max relative difference of <W_r> {diff:.1e}; W_N histograms identical: {same_hist}"
    )
    worst, unequal = _compare_files(dist_path, single_path)
    print(f"every statistic of the files: largest difference {worst:.1e} of its field's scale; unequal: {unequal}")
    return 0 if diff < 1e-10 and same_hist and worst < 1e-10 and not unequal else 1


def _compare_files(path_a, path_b):
    """Every array the two result files hold (as written by ``save_result``), but their run records: floats
    relative to the field's largest magnitude, integers (counts, n_configs, seed) exactly."""
    import numpy as np

    worst, unequal = 0.0, []
    with np.load(path_a, allow_pickle=False) as fa, np.load(path_b, allow_pickle=False) as fb:
        names = sorted(set(fa.files) | set(fb.files))
        for name in names:
            if name == "info" or name.startswith("__"):  # devices, timings; format, version, checksum
                continue
            if name not in fa.files or name not in fb.files:
                unequal.append(name)
                continue
            x, y = fa[name], fb[name]
            if x.shape != y.shape or x.dtype != y.dtype:
                unequal.append(name)
            elif x.dtype.kind in "fc":
                finite = np.isfinite(y)  # ±∞ and NaN (a variance of one configuration) where the other has them
                if not np.array_equal(np.isfinite(x), finite) or not np.array_equal(
                    x[~finite], y[~finite], equal_nan=True
                ):
                    unequal.append(name)
                elif finite.any():
                    scale = max(float(np.max(np.abs(y[finite]))), np.finfo(y.dtype).tiny)
                    worst = max(worst, float(np.max(np.abs(x[finite] - y[finite]))) / scale)
            elif not np.array_equal(x, y):
                unequal.append(name)
    return worst, unequal


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", type=int, default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--single", action="store_true")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.worker, args.port, args.out)
    elif args.single:
        _run(args.out)
    else:
        sys.exit(launcher())
