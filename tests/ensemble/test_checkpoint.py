"""Checkpoint/resume: a run killed midway (SIGKILL after chunk k) resumes without recomputing or
losing a finished chunk, and ends with exactly the numbers of an uninterrupted run."""

import os
import pathlib
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble import CheckpointMismatch

ROOT = pathlib.Path(__file__).resolve().parents[2]
ARGS = dict(n_steps=12, n_configs=230, seed=3, chunk_size=40, alphas=(1.0, 2.0))  # 6 chunks
KILL_AFTER = 2  # chunks 0, 1, 2 finish, then the process dies


def _model():
    return jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.2, distribution=jt.Gaussian(0.1))


SCRIPT = textwrap.dedent(
    f"""
    import os, signal, sys
    import numpy as np
    import jaxthermo as jt
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.2, distribution=jt.Gaussian(0.1))
    def callback(chunk, done):
        print("finished", chunk, flush=True)
        if chunk == {KILL_AFTER}:
            os.kill(os.getpid(), signal.SIGKILL)
    jt.ensemble(model, np.diag([0.8, 0.2]), checkpoint=sys.argv[1], callback=callback, **{ARGS!r})
    print("not killed", flush=True)
    """
)


def test_killed_run_resumes_without_recomputing(tmp_path):
    ckpt = tmp_path / "run.npz"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ckpt)], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert "not killed" not in proc.stdout
    assert proc.stdout.split() == ["finished", "0", "finished", "1", "finished", "2"]
    with np.load(ckpt) as z:
        assert int(z["chunks_done"]) == KILL_AFTER + 1

    computed = []
    resumed = jt.ensemble(
        _model(), np.diag([0.8, 0.2]), checkpoint=ckpt, callback=lambda c, n: computed.append(c), **ARGS
    )
    assert computed == [3, 4, 5]  # nothing finished is recomputed, nothing is lost
    assert resumed.info["chunks_resumed"] == 3
    fresh = jt.ensemble(_model(), np.diag([0.8, 0.2]), **ARGS)
    for name in ("mean_state", "mean_work", "var_work", "var_cumulative_work", "mean_divergence", "var_heat"):
        np.testing.assert_array_equal(getattr(resumed, name), getattr(fresh, name), err_msg=name)
    np.testing.assert_array_equal(resumed.work_histogram.counts, fresh.work_histogram.counts)
    assert resumed.work_histogram.total == 230

    # a finished checkpoint: rerunning computes nothing
    again = []
    jt.ensemble(_model(), np.diag([0.8, 0.2]), checkpoint=ckpt, callback=lambda c, n: again.append(c), **ARGS)
    assert again == []


def test_checkpoint_of_another_run_is_refused(tmp_path):
    ckpt = tmp_path / "run.npz"
    small = dict(ARGS, n_configs=50)
    jt.ensemble(_model(), np.diag([0.8, 0.2]), checkpoint=ckpt, **small)
    with pytest.raises(ValueError, match="checkpoint"):
        jt.ensemble(_model(), np.diag([0.8, 0.2]), checkpoint=ckpt, **dict(small, seed=4))


RESUMABLE = dict(n_steps=8, n_configs=300, seed=5, alphas=(1.0,))


def test_interrupted_run_resumes_with_another_chunk_size_and_device_count(tmp_path):
    """Stopped on 2 devices in chunks of 40 (the killed run above leaves the same file), resumed on 1
    device in chunks of 64 (docs/ensemble.md §1: configuration i depends on (seed, i) only): the
    statistics of an uninterrupted run to rounding, the W_N histogram exactly. The checkpoint was
    refused before (its fingerprint held the chunk size)."""
    import jax

    if len(jax.devices()) < 2:
        pytest.skip("needs 2 CPU devices")
    ckpt = tmp_path / "run.npz"

    class Stop(Exception):
        pass

    def stop(chunk, done):
        if chunk == 1:
            raise Stop

    with pytest.raises(Stop):
        jt.ensemble(
            _model(),
            np.diag([0.8, 0.2]),
            checkpoint=ckpt,
            callback=stop,
            chunk_size=40,
            devices=jax.devices()[:2],
            **RESUMABLE,
        )
    with np.load(ckpt) as z:
        assert int(z["configs_done"]) == 80

    seen = []
    resumed = jt.ensemble(
        _model(),
        np.diag([0.8, 0.2]),
        checkpoint=ckpt,
        chunk_size=64,
        devices=jax.devices()[:1],
        callback=lambda c, n: seen.append(n),
        **RESUMABLE,
    )
    assert seen == [144, 208, 272, 300]  # configurations 80… in chunks of 64, nothing computed twice
    # the same compiled program, uninterrupted: chunks 0…63, 64…127, … against 0…79 (2 × 20), 80…143, …
    fresh = jt.ensemble(_model(), np.diag([0.8, 0.2]), chunk_size=64, devices=jax.devices()[:1], **RESUMABLE)
    for name in ("mean_state", "mean_work", "var_work", "var_cumulative_work", "mean_divergence", "var_heat"):
        np.testing.assert_allclose(getattr(resumed, name), getattr(fresh, name), rtol=1e-12, atol=1e-15, err_msg=name)
    np.testing.assert_array_equal(resumed.work_histogram.counts, fresh.work_histogram.counts)
    assert resumed.work_histogram.total == 300


def test_checkpoint_written_before_configs_done_resumes_with_its_chunk_size(tmp_path):
    """A file of the earlier format (chunks_done only, fingerprint with the chunk size) still resumes
    after chunks_done × chunk_size configurations; a histogram that disagrees with them is refused."""
    from jaxthermo.ensemble import FileFormatError, _files

    ckpt = tmp_path / "old.npz"
    stats = {"work_histogram": _files.Counts(np.array([[0, 60, 20, 0]]))}
    _files._write(
        ckpt,
        _files.CHECKPOINT,
        dict(fingerprint=np.asarray("old"), chunks_done=np.asarray(2), **_files.flatten_stats(stats)),
    )
    with _files.Checkpoint(ckpt, "new", 230, 40, legacy_fingerprint="old") as c:
        done, loaded = c.load()
    assert done == 80
    np.testing.assert_array_equal(loaded["work_histogram"].counts, stats["work_histogram"].counts)
    with (
        _files.Checkpoint(ckpt, "new", 230, 30, legacy_fingerprint="other") as c,
        pytest.raises(ValueError, match="different run"),
    ):
        c.load()
    with (
        _files.Checkpoint(ckpt, "new", 230, 30, legacy_fingerprint="old") as c,
        pytest.raises(FileFormatError, match="60 finished"),
    ):
        c.load()  # 2 chunks of 30 = 60 configurations, but the histogram holds 80


def test_a_float32_state_run_checkpointed_in_float64_resumes_with_dtype(tmp_path):
    """A complex64 rho0 now runs in float32; a checkpoint written in float64 for that state (the default
    before, and dtype=jnp.float64 now) is refused by the default call with a message naming the remedy, and
    resumes with dtype=jnp.float64 to exactly the uninterrupted numbers."""
    import jax.numpy as jnp

    rho = np.eye(2, dtype=np.complex64) / 2
    ckpt = str(tmp_path / "run.npz")
    args = dict(n_steps=6, n_configs=120, seed=5, chunk_size=40)
    whole = jt.ensemble(_model(), rho, dtype=jnp.float64, **args)
    jt.ensemble(_model(), rho, dtype=jnp.float64, checkpoint=ckpt, **args)
    with pytest.raises(ValueError, match=r"precision.*dtype=jnp\.float64"):
        jt.ensemble(_model(), rho, checkpoint=ckpt, **args)
    again = jt.ensemble(_model(), rho, dtype=jnp.float64, checkpoint=ckpt, **args)
    assert again.mean_total_work.dtype == np.float64
    np.testing.assert_array_equal(again.mean_total_work, whole.mean_total_work)


def test_a_longer_run_extends_a_checkpoint_and_a_shorter_one_is_refused(tmp_path):
    """Configuration i depends on (seed, i) only, so a finished run of 120 configurations is the first 120
    of a run of 200: with the same checkpoint the longer run computes only configurations 120…199 and
    ends with exactly the numbers of an uninterrupted 200-configuration run (the same chunks; it was
    refused as 'a different run'). A run of fewer configurations than the file holds is refused naming
    n_configs. (The pilot's default edges come from configurations 0…511: explicit ranges here, or
    runs of ≥ 512 configurations, share their edges.)"""
    ckpt = tmp_path / "run.npz"
    args = dict(
        n_steps=6, seed=2, chunk_size=40, alphas=(1.0,), work_range=(-0.2, 0.2), collision_work_range=(-0.1, 0.1)
    )
    rho0 = np.diag([0.8, 0.2])
    jt.ensemble(_model(), rho0, n_configs=120, checkpoint=ckpt, **args)
    computed = []
    longer = jt.ensemble(
        _model(), rho0, n_configs=200, checkpoint=ckpt, callback=lambda c, n: computed.append(n), **args
    )
    assert computed == [160, 200]
    fresh = jt.ensemble(_model(), rho0, n_configs=200, **args)
    for name in ("mean_state", "mean_work", "var_work", "var_cumulative_heat", "mean_divergence", "work_cumulants"):
        np.testing.assert_array_equal(getattr(longer, name), getattr(fresh, name), err_msg=name)
    np.testing.assert_array_equal(longer.work_histogram.counts, fresh.work_histogram.counts)
    assert longer.n_configs == 200 and longer.work_histogram.total == 200
    with pytest.raises(ValueError, match="n_configs=100"):
        jt.ensemble(_model(), rho0, n_configs=100, checkpoint=ckpt, **args)


def test_a_shorter_run_with_default_edges_is_refused_naming_n_configs(tmp_path):
    """Below 512 configurations the pilot's default edges follow n_configs, so a shorter run's edges differ
    from the file's too: the refusal names n_configs (what to change), not the edges' hashes (it did)."""
    ckpt = tmp_path / "run.npz"
    args = dict(n_steps=4, seed=3, chunk_size=128, alphas=())
    rho0 = np.diag([0.8, 0.2])

    def stop_after_the_first_chunk(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # a run of 1000 (pilot on 512) killed after 128 configurations
        jt.ensemble(_model(), rho0, n_configs=1000, checkpoint=ckpt, callback=stop_after_the_first_chunk, **args)
    with pytest.raises(CheckpointMismatch) as err:  # 100: another pilot, and fewer than the 128 finished
        jt.ensemble(_model(), rho0, n_configs=100, checkpoint=ckpt, **args)
    message = str(err.value)
    assert message.startswith("n_configs=100:") and "holds 128 finished configurations" in message
    assert "sha256" not in message and err.value.differences == {"n_configs": ("100", "128 finished")}
    # a longer run below 512 still names the edges and their cause (its pilot differs)
    with pytest.raises(CheckpointMismatch, match="pilot run"):
        jt.ensemble(_model(), rho0, n_configs=200, checkpoint=ckpt, **args)
    assert jt.ensemble(_model(), rho0, n_configs=1000, checkpoint=ckpt, **args).n_configs == 1000  # resumes


def test_checkpoint_written_while_the_fingerprint_held_n_configs_resumes_with_that_n(tmp_path):
    """Files written before checkpoints could be extended had n_configs in their fingerprint
    (``sized_fingerprint``): they resume with that number of configurations."""
    from jaxthermo.ensemble import _files

    ckpt = tmp_path / "sized.npz"
    stats = {"work_histogram": _files.Counts(np.array([[0, 60, 20, 0]]))}
    arrays = dict(configs_done=np.asarray(80), chunk_size=np.asarray(40), **_files.flatten_stats(stats))
    _files._write(ckpt, _files.CHECKPOINT, dict(fingerprint=np.asarray("sized"), chunks_done=np.asarray(2), **arrays))
    with _files.Checkpoint(ckpt, "new", 230, 30, sized_fingerprint="sized") as c:
        assert c.load()[0] == 80
    with (
        _files.Checkpoint(ckpt, "new", 300, 30, sized_fingerprint="other") as c,
        pytest.raises(ValueError, match="different run"),
    ):
        c.load()
