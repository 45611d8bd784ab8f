"""Plain-JAX reproducers of the XLA:CPU hangs met by jaxthermo (docs/xla_cpu_hangs.md).

jaxlib 0.10.0-0.11.0 runs every batched LAPACK custom call whose batch is "large"
(batch x cost_per_matrix >= 2e5 flop) through ``ParallelBatchMap``: it schedules the chunks on
XLA's intra-op thread pool and blocks that thread on a counter. When as many such calls as the
pool has threads start at once on pool threads, every pool thread waits for chunks that no
thread is free to run: a deadlock (0 % CPU, ``block_until_ready`` never returns).

Usage (always under a timeout; a hang is the failure being demonstrated)::

    timeout 120 python benchmarks/xla_cpu_hang_repro.py expm        # pattern 1: 4 batched expm
    timeout 120 python benchmarks/xla_cpu_hang_repro.py map         # pattern 2: lax.map(batch_size>1)
    timeout 120 python benchmarks/xla_cpu_hang_repro.py devices     # pattern 3: eigh on 2 host devices

Prints ``OK <seconds>`` when every call returned.
"""

import argparse
import os
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("pattern", choices=["expm", "map", "devices"])
p.add_argument("--n", type=int, default=None, help="batch size (expm, devices) or matrix size (map)")
p.add_argument("--k", type=int, default=4, help="independent batched calls (expm)")
p.add_argument("--calls", type=int, default=50)
args = p.parse_args()
if args.pattern == "devices":
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2").strip()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)
rng = np.random.default_rng(0)


def cplx(*shape):
    return jnp.asarray(rng.normal(size=shape) + 1j * rng.normal(size=shape))


if args.pattern == "expm":
    # jt.propagate in miniature: k independent vmapped expm of 4x4 complex Liouvillians. Each expm
    # ends in a batched LU (lapack_zgetrf_ffi); cost 3*4^3 = 192 flop/matrix, so a batch >= 1042
    # is split over the pool. 1024 runs, 2048 hangs.
    n = args.n or 2048
    xs = [0.1 * cplx(n, 4, 4) for _ in range(args.k)]
    f = jax.jit(lambda *xs: [jax.scipy.linalg.expm(x) for x in xs])
    fargs = xs
elif args.pattern == "map":
    # model C's lax.map(step, times, batch_size=b) in miniature: per time, a linear solve (getrf)
    # and an SVD (gesdd) of the same n x n complex matrix, independent of each other. For n = 40,
    # two matrices already exceed 2e5 flop, so every batch_size >= 2 goes through the pool.
    n = args.n or 40
    a, b = cplx(n, n), cplx(n, n)
    times = jnp.linspace(0.0, 1.0, 64)

    def step(t):
        g = jnp.eye(n) + 0.1 * jnp.cos(t) * a + 0.1 * jnp.sin(t) * b
        return jnp.linalg.solve(g, b), jnp.linalg.svd(g, compute_uv=False)[-1]

    f = jax.jit(lambda ts: jax.lax.map(step, ts, batch_size=8))
    fargs = [times]
else:
    # the ensemble engine's coherent CPU path: a batch of Hermitian matrices sharded over two
    # forced host devices, eigh on each device's shard (zheevd) after a parallel elementwise kernel.
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    n = args.n or 4096
    mesh = jax.make_mesh((2,), ("configs",))
    x = cplx(2 * n, 4, 4)
    x = jax.device_put(x, NamedSharding(mesh, P("configs")))

    def g(x):
        h = x + jnp.conj(jnp.swapaxes(x, -1, -2))
        return jnp.linalg.eigvalsh(jnp.sin(h) + h)

    f = jax.jit(g)
    fargs = [x]

t0 = time.time()
for _ in range(args.calls):
    jax.block_until_ready(f(*fargs))
print(f"OK {time.time() - t0:.2f}", flush=True)
sys.exit(0)
