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
