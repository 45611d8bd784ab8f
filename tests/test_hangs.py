"""Known XLA:CPU deadlock patterns, each run in a subprocess with a timeout (docs/xla_cpu_hangs.md).

jaxlib 0.10.0-0.11.0 split large batched LAPACK calls over XLA's intra-op thread pool and block
the calling pool thread; enough concurrent calls deadlock the pool. The dependency range excludes
those releases; on them (a user's own install) jaxthermo applies an XLA flag and caps multi-device
eigendecomposition batches. A hang here fails the test (with the pattern named) instead of
stalling CI. Each pattern hung within a few calls on jax 0.10.2 without the mitigation on a
2-core machine; on a supported jaxlib each subprocess takes a few seconds.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jaxthermo._runtime import installed_jaxlib, lapack_splits_batches, splits_lapack_batches

ROOT = Path(__file__).resolve().parents[1]
REPRO = ROOT / "benchmarks" / "xla_cpu_hang_repro.py"
TIMEOUT_S = 120
# the runtime setting jaxthermo applies at import on the affected jaxlib releases (docs/xla_cpu_hangs.md)
MITIGATION = "--xla_cpu_enable_concurrency_optimized_scheduler=false"


def _run(args, what, env_flags=None):
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)  # the subprocess decides its own flags (conftest forces 4 devices)
    env["JAX_PLATFORMS"] = "cpu"
    if env_flags:
        env["XLA_FLAGS"] = env_flags
    try:
        proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        pytest.fail(
            f"{what}: no result after {TIMEOUT_S} s -- XLA:CPU deadlock (batched LAPACK custom calls "
            f"starving the intra-op thread pool, docs/xla_cpu_hangs.md). Partial output:\n{e.stdout!r}",
            pytrace=False,
        )
    assert proc.returncode == 0, f"{what} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_affected_releases():
    """The releases whose lapack_kernels.cc has ParallelBatchMap (docs/xla_cpu_hangs.md, "Versions")."""
    affected = ["0.10.0", "0.10.1", "0.10.2", "0.11.0", "0.11.0.dev20260716", "0.10.2rc1"]
    unaffected = ["0.4.35", "0.8.3", "0.9.2", "0.11.1", "1.0"]
    assert all(splits_lapack_batches(v) for v in affected)
    assert not any(splits_lapack_batches(v) for v in unaffected)
    assert lapack_splits_batches == splits_lapack_batches(installed_jaxlib())


@pytest.mark.parametrize("pattern", ["expm", "devices"])
def test_plain_jax_pattern(pattern):
    """The plain-JAX reproducers: with plain flags on a supported jaxlib; on an affected one, with the
    XLA flag the package sets at import (which does not cover programs on several devices)."""
    if lapack_splits_batches and pattern == "devices":
        pytest.skip(
            f"jaxlib {installed_jaxlib()} splits LAPACK batches: eigh on several host devices can hang "
            "despite the XLA flag (the engine caps such batches instead; docs/xla_cpu_hangs.md)"
        )
    flags = MITIGATION if lapack_splits_batches else None
    out = _run([sys.executable, str(REPRO), pattern, "--calls", "50"], f"plain-JAX pattern {pattern!r}", flags)
    assert out.startswith("OK")


JT_PROPAGATE = """
import numpy as np, jax, jax.numpy as jnp, jaxthermo as jt
model = jt.qubit_example(omega=1.0, g=0.5, beta=1.0, lam=0.1, tau=1e-3)
batch = model.replace(lam=jnp.linspace(-0.5, 0.5, 4096))
times = np.linspace(0.0, 10.0, 101)
rho0 = np.array([[0.2, 0.3 - 0.1j], [0.3 + 0.1j, 0.8]])
f = jax.jit(lambda m: jt.propagate(m, rho0, times))
for i in range(20):
    jax.block_until_ready(f(batch))
print("OK")
"""


def test_jaxthermo_batched_propagate_under_jit():
    """Issue 15's reproducer: jit(propagate) over a 4096-member batch (the package's own flags)."""
    assert _run([sys.executable, "-c", JT_PROPAGATE], "jit(jt.propagate) over 4096 models").startswith("OK")


JT_QUADRATIC = """
import numpy as np, jax, jaxthermo as jt
res = jt.QuadraticReservoirs.from_regime(n1=40, n2=40, detuning=0.3, effective_coupling=1.0, nu2=2.0,
                                         g=0.1, beta1=2.0, beta2=0.5, statistics="fermion")
times = np.linspace(0.0, 5.0, 41)
for i in range(2):
    out = res.energetics(times, batch_size=8)
    jax.block_until_ready(out.minimal_dissipation.heat)
print("OK")
"""


JT_COHERENT_ENSEMBLE = """
import numpy as np, jax, jaxthermo as jt
assert len(jax.devices()) == 4, jax.devices()
for d in (2, 3):
    model = jt.InhomogeneousReservoir(d, 1.0, 1.0, 0.1, distribution=jt.Gaussian(0.05))
    v = np.exp(1j * np.arange(d)) / np.sqrt(d)
    rho0 = 0.5 * np.outer(v, v.conj()) + 0.5 * np.eye(d) / d
    for i in range(3):
        res = jt.ensemble(model, rho0, 20, 16384, seed=i, chunk_size=16384, divergence_every=1)
        assert np.all(np.isfinite(res.mean_divergence))
    print(d, res.info["chunk_size"])
print("OK")
"""


def test_jaxthermo_model_c_times_batched():
    """Model C with 80 modes and times batched 8 at a time through lax.map (the pattern that once hung)."""
    assert _run([sys.executable, "-c", JT_QUADRATIC], "model C, 80 modes, lax.map(batch_size=8)").startswith("OK")


def test_coherent_ensemble_on_four_devices():
    """Coherent ensembles with quantum divergences at every step on 4 forced CPU devices: qubits
    (closed forms, 4096 configurations per device, no cap) and qutrits (batched eigendecomposition;
    4096 per device, capped at 128 per device on the affected jaxlib releases, where 4096 stalled)."""
    out = _run(
        [sys.executable, "-c", JT_COHERENT_ENSEMBLE],
        "coherent ensemble on 4 CPU devices",
        "--xla_force_host_platform_device_count=4",
    )
    assert out.strip().endswith("OK")
    qutrit_chunk = 4 * 128 if lapack_splits_batches else 16384
    assert "2 16384" in out and f"3 {qutrit_chunk}" in out
