"""A convergence study over n_configs compiles a few chunk programs, not one per size (docs/ensemble.md §1).

Below the default chunk the chunk used to be the run itself (n_configs configurations, aligned), so a
study n_configs = 100, 200, 400, … compiled a new program at every size (≈ 3.5 s each for the qubit
default call on 2 cores, against ≈ 0.1 s to run a whole default chunk), and below 512 configurations
a new pilot too. A run that fits in one chunk now takes the least power of 4 per device that holds it
(the pilot always 512 indices), so sizes share programs; the padding is masked out of every statistic.
Compilations are counted with JAX's own events, as in tests/test_compiled_once.py.
"""

import jax
import jax.numpy as jnp
import numpy as np

import jaxthermo as jt
from jaxthermo.ensemble._engine import balanced_per_device, default_chunk_size, shared_per_device
from jaxthermo.ensemble._sampling import sample_chunk
from tests.helpers import counted_compilations, on_cpu_devices

MODEL = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=0.3, distribution=jt.Gaussian(0.2))
RHO0 = jt.thermal_state(2, 0.5, 1.0)
N = 20


@on_cpu_devices
def test_sizes_in_one_power_of_four_share_one_program():
    """On 4 devices, n_configs = 260…1024 need 65…256 configurations per device: one program (256),
    compiled by the first of them; before, every size compiled its own chunk program (and below 512
    its own pilot)."""
    assert jax.device_count() == 4
    jax.clear_caches()  # another module of this worker may have compiled the 256-configuration program
    jt.ensemble(MODEL, RHO0, N, 20_000)  # the run's other programs (pilot, host-side statistics)
    sizes = (260, 400, 555, 700, 1000, 1024)
    with counted_compilations() as first:
        jt.ensemble(MODEL, RHO0, N, sizes[0])
    assert first[0] >= 1  # the counter sees the new chunk program
    with counted_compilations() as count:
        results = [jt.ensemble(MODEL, RHO0, N, n) for n in sizes]
    assert count[0] == 0, f"{count[0]} compilations for n_configs in {sizes}"
    assert {r.info["chunk_size"] for r in results} == {4 * 256}


def test_a_doubling_study_compiles_one_program_per_power_of_four():
    """n_configs = 100·2^k, k = 0…7, on 4 devices: 4 chunk programs (64, 256, 1024 and 4096 per device),
    where every size compiled one before."""
    steps = N + 1  # programs of its own (the test above compiled N's)
    jax.clear_caches()  # nor any other module of this worker
    jt.ensemble(MODEL, RHO0, steps, 20_000)
    sizes = [100 * 2**k for k in range(8)]
    with counted_compilations() as count:
        results = [jt.ensemble(MODEL, RHO0, steps, n) for n in sizes]
    per_device = sorted({r.info["chunk_size"] // 4 for r in results})
    assert per_device == [64, 256, 1024, 4096]
    assert count[0] == len(per_device), f"{count[0]} compilations for {len(sizes)} sizes"


def test_padding_enters_no_statistic():
    """260 configurations run in a chunk of 1024: the 764 padding configurations enter no histogram and
    no moment. Reference: the same configurations through ``jaxthermo.trajectory``, NumPy float64."""
    n = 260
    res = jt.ensemble(MODEL, RHO0, N, n, work_range=(-0.2, 0.3), collision_work_range=(-0.05, 0.05))
    assert res.info["chunk_size"] == 1024
    deltas = sample_chunk(MODEL.distribution, jax.random.key(0), jnp.arange(n, dtype=jnp.uint32), N, jnp.float64)
    traj = jax.vmap(lambda dl: jt.trajectory(MODEL, RHO0, dl, store_states=False))(deltas)
    work = np.asarray(traj.work, np.float64)
    w_n = work.sum(axis=1)
    h, hc = res.work_histogram, res.collision_work_histogram
    assert h.counts.sum() + h.underflow + h.overflow == n
    assert hc.counts.sum() + hc.underflow + hc.overflow == n * N
    np.testing.assert_array_equal(h.counts, np.histogram(w_n, bins=np.asarray(h.edges))[0])
    np.testing.assert_allclose(res.mean_total_work, w_n.mean(), rtol=1e-12)
    np.testing.assert_allclose(res.var_total_work, w_n.var(ddof=1), rtol=1e-10)
    np.testing.assert_allclose(res.mean_work, work.mean(axis=0), rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(res.mean_exp_minus_beta_work, np.exp(-w_n).mean(), rtol=1e-13)
    k2, k3, _ = res.work_cumulants
    dev = w_n - w_n.mean()
    np.testing.assert_allclose(k2, w_n.var(ddof=1), rtol=1e-10)
    np.testing.assert_allclose(k3, n * np.sum(dev**3) / ((n - 1) * (n - 2)), rtol=1e-8)


def test_large_runs_keep_their_chunks():
    """Runs of more than one default chunk run at the default size (the default 10⁶ × 100 call: 48
    chunks of 10 432 per device on 2 devices, as before); a one-chunk run's per-device size is the least
    power of 4 that holds it, capped at the default."""
    per_device = default_chunk_size(100, 2) // 2
    assert per_device == 10_432
    assert balanced_per_device(10**6, per_device, 2) == per_device
    assert [shared_per_device(k, per_device) for k in (1, 2, 5, 64, 65, 4096, 4097, 10_432)] == [
        1,
        4,
        16,
        64,
        256,
        4096,
        10_432,
        10_432,
    ]
