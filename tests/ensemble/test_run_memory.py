"""Memory of long runs (large N): the pilot's share, and runs that cannot fit refused up front.

Before: the pilot evaluated its 512 configurations at once, 512·N values of every per-collision
array (peak RSS 1.95 GB for N = 10⁵ and 10 configurations, 0.66 GB with the histogram ranges given);
N = 10⁸ failed inside XLA after the pilot (RESOURCE_EXHAUSTED, 1.6 TB) and N = 2³² killed the
process with SIGFPE, without a Python error.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo import Gaussian, InhomogeneousReservoir
from jaxthermo.ensemble import _engine
from jaxthermo.ensemble._kernel import pilot_work_ranges


def test_pilot_batch_budget():
    assert _engine.pilot_batch(100, 1) == 512  # short runs: the pilot as before, one vmapped batch
    assert _engine.pilot_batch(2048, 1) == 512
    assert _engine.pilot_batch(2049, 1) == 256
    assert _engine.pilot_batch(10**5, 1) == 8
    assert _engine.pilot_batch(10**5, 4) == 2  # a grid shares the budget
    assert _engine.pilot_batch(2**32, 1) == 1
    for n, g in [(3000, 1), (10**4, 3), (7, 2)]:
        b = _engine.pilot_batch(n, g)
        assert b * n * g <= 2**20 or b == 1
        assert 512 % b == 0


@pytest.mark.parametrize("d, kind", [(2, "hamiltonian"), (3, "hamiltonian")])
def test_batched_pilot_same_ranges_less_memory(d, kind):
    """Batches of the pilot give the ranges of the whole pilot (the same δ's and trajectories; the
    order of the min/max reduction is all that differs), with a fraction of its scratch memory
    (XLA's own memory analysis of the two compiled programs)."""
    model = InhomogeneousReservoir(d, 1.0, 1.0, 0.3, kind=kind, distribution=Gaussian(0.1))
    rho = jnp.asarray(np.eye(d) / d + 0.02 * (np.ones((d, d)) - np.eye(d)), complex)
    key, idx, n = jax.random.key(3), jnp.arange(512, dtype=jnp.uint32), 3000

    def compiled(batch):
        return jax.jit(lambda i: pilot_work_ranges(model, rho, key, i, n_steps=n, batch=batch)).lower(idx).compile()

    whole, batched = compiled(None), compiled(64)
    np.testing.assert_allclose(batched(idx), whole(idx), rtol=1e-14, atol=1e-15)
    assert np.ptp(np.asarray(whole(idx))[:2]) > 0  # W_N varies: the test compares real ranges
    mem = [c.memory_analysis() for c in (whole, batched)]
    if any(m is None for m in mem):
        pytest.skip("no memory analysis on this backend")
    assert mem[1].temp_size_in_bytes < mem[0].temp_size_in_bytes / 4


@pytest.mark.parametrize("n_steps", [2**32, 10**8])
def test_run_that_cannot_fit_is_refused_naming_n_steps(n_steps, monkeypatch):
    def no_pilot(*args, **kwargs):
        raise AssertionError("the pilot ran before the memory check")

    monkeypatch.setattr(_engine, "_compiled_pilot", no_pilot)
    monkeypatch.setattr(_engine, "host_memory_bytes", lambda: 8 * 2**30)  # the same verdict on any CI machine
    model = InhomogeneousReservoir(2, 1.0, 1.0, 0.1, distribution=Gaussian(0.05))
    with pytest.raises(ValueError, match=f"n_steps={n_steps}: the run needs at least"):
        jt.ensemble(model, np.diag([0.7, 0.3]), n_steps, 10)


def test_memory_bound_is_a_lower_bound():
    """The bound counts the chunk's output and the draws only: 8 GiB hold 10⁴ collisions easily, so a
    run the machine can do is never refused (here on the real host's memory)."""
    model = InhomogeneousReservoir(2, 1.0, 1.0, 0.1, distribution=Gaussian(0.05))
    res = jt.ensemble(model, np.diag([0.7, 0.3]), 10**4, 8, alphas=())
    assert res.mean_work.shape == (10**4,)


def test_accelerator_runs_check_the_hosts_memory_for_the_statistics():
    """On an accelerator the run is checked twice: the device's memory holds the chunk's output, δ draws
    and edges; the host's (``draws=False``) the statistics every chunk sends back, which it merges. The
    host's check counts the output and the host's histogram counts, not the draws: it refuses where the
    output alone exceeds the host (naming n_steps and the host) and passes where only the draws would."""
    n_steps, chunk, rows = 10**6, 4096, 30

    def run_chunk(stacked, rho0, key, first, count, *edges):  # a chunk's output: per-step rows, histograms
        return {"steps": jnp.zeros((n_steps, rows)), "histogram": jnp.zeros((edges[0].shape[1] + 1,), jnp.int32)}

    stacked = {"theta": jnp.zeros((1,))}
    args = (run_chunk, stacked, jnp.eye(2), jax.random.key(0), n_steps, chunk, 1, jnp.float64, jnp.float64, (8, 8))
    output = n_steps * rows * 8 + (9 + 1) * 4
    draws = (chunk + _engine.pilot_batch(n_steps, 1)) * n_steps * 8
    host_counts = 2 * (8 + 2) * (8 + 8)  # two histograms: edges once, int64 counts
    with pytest.raises(ValueError, match=rf"n_steps={n_steps}: the run needs at least .* GiB on the host"):
        _engine.check_memory(*args, output, draws=False)
    _engine.check_memory(*args, output + host_counts, draws=False)  # fits: the draws stay on the device
    with pytest.raises(ValueError, match=rf"n_steps={n_steps}: .*statistics and δ draws"):
        _engine.check_memory(*args, output + draws, host=False)
    _engine.check_memory(*args, output + draws + 2 * (8 + 2) * 8, host=False)
