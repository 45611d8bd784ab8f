"""Long runs that must not lose work (helper-74's trial): a sweep killed with SIGKILL resumes from its
checkpoint, damaged checkpoints are named and kept, and the device count a user chose is kept."""

import os
import re
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble._files import CheckpointMismatch, FileFormatError

from ..helpers import ROOT, free_port, fresh_python, processes_together

RHO0 = np.diag([0.8, 0.2])
GRID = {"theta": [0.2, 0.5], "n_steps": [6, 9]}  # two N: one checkpoint file per N
SWEEP = dict(n_configs=200, seed=4, chunk_size=64, alphas=(1.0, 2.0), work_range=(-1, 1), collision_work_range=(-1, 1))
# 4 chunks per N (the last one padded); fixed histogram ranges: no pilot run
KILL_AT = 2  # the process dies after the 2nd chunk of the second N


def _model():
    return jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.2, distribution=jt.Gaussian(0.1))


SWEEP_SCRIPT = textwrap.dedent(
    f"""
    import os, signal, sys
    import numpy as np
    import jaxthermo as jt
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.2, distribution=jt.Gaussian(0.1))
    seen = []
    def callback(chunk, done):
        seen.append(chunk)
        print("finished", chunk, flush=True)
        if len(seen) == 4 + {KILL_AT}:
            os.kill(os.getpid(), signal.SIGKILL)
    jt.sweep(model, np.diag([0.8, 0.2]), 6, grid={GRID!r}, checkpoint=sys.argv[1], callback=callback, **{SWEEP!r})
    print("not killed", flush=True)
    """
)


def _same_sweeps(a, b):
    for ra, rb in zip(a.results, b.results, strict=True):
        for name in ("mean_state", "mean_work", "var_work", "mean_heat", "mean_divergence", "var_divergence"):
            np.testing.assert_array_equal(getattr(ra, name), getattr(rb, name), err_msg=name)
        np.testing.assert_array_equal(ra.work_histogram.counts, rb.work_histogram.counts)


@pytest.mark.slow  # subprocesses that import and compile anew: 35-190 s on 2 loaded cores
def test_a_killed_sweep_resumes_every_finished_chunk(tmp_path):
    """jt.sweep refused checkpoint= ('not supported for sweeps'): a long sweep killed after 6 of its 8 chunks
    lost all 6. Now the grid's chunks are checkpointed (one file per N) and the rerun computes only the
    2 chunks that were not finished, ending with exactly the numbers of an uninterrupted sweep."""
    path = tmp_path / "sweep.npz"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", SWEEP_SCRIPT, str(path)], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert proc.stdout.split()[1::2] == ["0", "1", "2", "3", "0", "1"]
    files = {n: tmp_path / f"sweep.n_steps{n}.npz" for n in GRID["n_steps"]}
    with np.load(files[6]) as a, np.load(files[9]) as b:
        assert (int(a["configs_done"]), int(b["configs_done"])) == (200, 128)

    computed = []
    resumed = jt.sweep(_model(), RHO0, 6, grid=GRID, checkpoint=path, callback=lambda c, n: computed.append(c), **SWEEP)
    assert computed == [2, 3]  # N = 6 finished, N = 9 from its third chunk: nothing recomputed, nothing lost
    fresh = jt.sweep(_model(), RHO0, 6, grid=GRID, **SWEEP)
    _same_sweeps(resumed, fresh)
    assert [r.info["chunks_resumed"] for r in resumed.results] == [4, 2, 4, 2]  # C order: (θ, N)

    # another grid on the same checkpoint is refused naming what differs, never mixed in
    with pytest.raises(CheckpointMismatch, match=r"model\.theta"):
        jt.sweep(_model(), RHO0, 6, grid={"theta": [0.2, 0.6], "n_steps": [6, 9]}, checkpoint=path, **SWEEP)


def test_a_later_n_whose_checkpoint_holds_other_settings_is_refused_before_any_n_runs(tmp_path):
    """helper-105's trial: N = 3 added to a grid of N = 6, 9 together with another σ. Every N of the first
    sweep left its file; the second ran all of N = 3 (and wrote its file, of the new σ) before finding that
    sweep.n_steps9.npz holds σ = 0.1, and the first study then could not resume. Now the file of every N is
    compared with its run first: refused naming σ, no chunk run, no file written."""
    path = tmp_path / "sweep.npz"
    first = {"n_steps": [6, 9]}
    jt.sweep(_model(), RHO0, 6, grid=first, checkpoint=path, **SWEEP)
    before = sorted(os.listdir(tmp_path))
    assert "sweep.n_steps9.npz" in before
    ran = []
    other = _model().replace(distribution=jt.Gaussian(0.3))
    with pytest.raises(CheckpointMismatch, match=r"sweep\.n_steps9\.npz.*sigma: \[0\.3\] here, \[0\.1\]"):
        jt.sweep(
            other, RHO0, 6, grid={"n_steps": [3, 9]}, checkpoint=path, callback=lambda c, n: ran.append(c), **SWEEP
        )
    assert ran == [] and sorted(os.listdir(tmp_path)) == before
    # the first study resumes: every chunk of both N finished, nothing recomputed
    again = jt.sweep(_model(), RHO0, 6, grid=first, checkpoint=path, callback=lambda c, n: ran.append(c), **SWEEP)
    assert ran == [] and [r.info["chunks_resumed"] for r in again.results] == [4, 4]
    # resumed with another chunk size: chunks_resumed counts this run's chunks, configs_resumed what the file held
    other_chunks = dict(SWEEP, chunk_size=128)
    again = jt.sweep(_model(), RHO0, 6, grid=first, checkpoint=path, **other_chunks)
    assert [(r.info["chunks_resumed"], r.info["configs_resumed"]) for r in again.results] == [(2, 200), (2, 200)]


def test_a_sweep_checkpoint_in_a_missing_directory_is_refused_before_anything_runs(tmp_path):
    ran = []
    bad = tmp_path / "no" / "sweep.npz"
    with pytest.raises(FileNotFoundError, match="checkpoint="):
        jt.sweep(_model(), RHO0, 6, grid=GRID, checkpoint=bad, callback=lambda c, n: ran.append(c), **SWEEP)
    assert ran == []


ENSEMBLE = dict(n_steps=6, n_configs=300, seed=8, chunk_size=64, alphas=(1.0, 2.0), work_range=(-1, 1))
ENSEMBLE["collision_work_range"] = (-1, 1)  # fixed histogram edges: no pilot run to compile

WORKER = textwrap.dedent(
    f"""
    import sys
    import jax
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    index, port, checkpoint, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    jax.distributed.initialize(coordinator_address="localhost:" + port, num_processes=2, process_id=index)
    import numpy as np
    import jaxthermo as jt
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.2, distribution=jt.Gaussian(0.1))
    computed = []
    r = jt.ensemble(model, np.diag([0.8, 0.2]), checkpoint=checkpoint, callback=lambda c, n: computed.append(c),
                    **{ENSEMBLE!r})
    np.savez(out, mean_work=r.mean_work, var_work=r.var_work, mean_state=r.mean_state,
             counts=r.work_histogram.counts, computed=np.asarray(computed), n_devices=r.info["n_devices"])
    jax.distributed.shutdown()
    """
)


def _two_processes(tmp_path, checkpoints):
    """WORKER as processes 0 and 1 of one jax.distributed run (one CPU device each), process i given the
    checkpoint path ``checkpoints[i]``; their exit codes and (stdout, stderr) (:func:`processes_together`)."""
    port = free_port()
    return processes_together(
        [["-c", WORKER, str(i), port, str(checkpoints[i]), str(tmp_path / f"out{i}.npz")] for i in range(2)]
    )


@pytest.mark.slow
def test_two_processes_resume_process_zeros_checkpoint_without_a_shared_filesystem(tmp_path):
    """Under jax.distributed every process read the checkpoint path on its own host: a host that does not see
    process 0's file (no shared filesystem: here process 1's path is an empty folder) started from
    configuration 0 while process 0 resumed after chunk 2, so the two ran different chunks under one program
    (they waited for each other forever). Now process 0's file is sent to the others: both resume after
    chunk 2, compute chunks 3 and 4 only, end with the numbers of an uninterrupted one-process run (the same
    configurations in other chunks: equal to rounding, histograms exactly), and process 1 writes no file."""
    shared, local = tmp_path / "host0", tmp_path / "host1"
    shared.mkdir(), local.mkdir()
    checkpoint = shared / "run.npz"

    def stop(chunk, done):
        if chunk == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        jt.ensemble(_model(), RHO0, checkpoint=checkpoint, callback=stop, **ENSEMBLE)
    with np.load(checkpoint) as z:
        assert int(z["configs_done"]) == 3 * 64
    fresh = jt.ensemble(_model(), RHO0, **ENSEMBLE)

    codes, outputs = _two_processes(tmp_path, (checkpoint, local / "run.npz"))
    assert codes == [0, 0], [err[-1500:] for _, err in outputs]
    for i in range(2):
        with np.load(tmp_path / f"out{i}.npz") as z:
            assert int(z["n_devices"]) == 2  # one device per process, one mesh over both
            assert z["computed"].tolist() == [3, 4], i
            for name in ("mean_work", "var_work", "mean_state"):
                np.testing.assert_allclose(z[name], getattr(fresh, name), rtol=1e-12, atol=1e-16, err_msg=name)
            np.testing.assert_array_equal(z["counts"], fresh.work_histogram.counts)
    assert not (local / "run.npz").exists()  # only process 0 writes the checkpoint
    with np.load(checkpoint) as z:
        assert int(z["configs_done"]) == 300


def _interrupted(path, after=1):
    """A checkpoint of ENSEMBLE holding chunks 0…after (the run stopped by its callback)."""

    def stop(chunk, done):
        if chunk == after:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        jt.ensemble(_model(), RHO0, checkpoint=path, callback=stop, **ENSEMBLE)


@pytest.mark.slow
def test_two_processes_stop_together_on_process_zeros_damaged_checkpoint(tmp_path):
    """The error path of the resume above: process 0's checkpoint is garbage. Process 0 raises the
    FileFormatError naming its file; process 1, told by process 0 instead of reading a file of its own, raises
    that process 0 refused the checkpoint: both stop before any chunk (no output file, no wait for each other
    until the timeout), and the damaged file is kept as it was."""
    shared, local = tmp_path / "host0", tmp_path / "host1"
    shared.mkdir(), local.mkdir()
    checkpoint = shared / "run.npz"
    _interrupted(checkpoint)
    damaged = os.urandom(len(checkpoint.read_bytes()))
    checkpoint.write_bytes(damaged)
    codes, outputs = _two_processes(tmp_path, (checkpoint, local / "run.npz"))
    assert codes[0] != 0 and codes[1] != 0, codes
    assert "FileFormatError" in outputs[0][1] and str(checkpoint) in outputs[0][1], outputs[0][1][-1500:]
    assert "refused by process 0" in outputs[1][1], outputs[1][1][-1500:]
    assert not (tmp_path / "out0.npz").exists() and not (tmp_path / "out1.npz").exists()
    assert checkpoint.read_bytes() == damaged and not (local / "run.npz").exists()


@pytest.mark.parametrize("damage", ["half", "empty", "garbage"])
def test_a_damaged_checkpoint_is_named_and_kept_and_nothing_runs(tmp_path, damage, monkeypatch):
    """A checkpoint cut at half its bytes, emptied or overwritten: FileFormatError naming the file before any
    chunk runs, and the file left as it is (never replaced by a fresh run's). Without histogram ranges, before
    the pilot run that sets the edges too (it was named only after the pilot had compiled and run)."""
    path = tmp_path / "run.npz"
    _interrupted(path)
    data = path.read_bytes()
    damaged = {"half": data[: len(data) // 2], "empty": b"", "garbage": os.urandom(len(data))}[damage]
    path.write_bytes(damaged)
    ran = []
    with pytest.raises(FileFormatError, match=re.escape(str(path))):
        jt.ensemble(_model(), RHO0, checkpoint=path, callback=lambda c, n: ran.append(c), **ENSEMBLE)
    assert ran == [] and path.read_bytes() == damaged
    from jaxthermo.ensemble import _engine

    monkeypatch.setattr(_engine, "pilot_work_ranges", lambda *a, **k: ran.append("pilot"))
    options = {k: v for k, v in ENSEMBLE.items() if not k.endswith("work_range")}
    with pytest.raises(FileFormatError, match=re.escape(str(path))):
        jt.ensemble(_model(), RHO0, checkpoint=path, callback=lambda c, n: ran.append(c), **options)
    assert ran == [] and path.read_bytes() == damaged


@pytest.mark.slow
def test_memory_does_not_grow_with_n_configs():
    """Peak RSS after a run of 4096 configurations in chunks of 512, then after one of 10× as many in the same
    process (same compiled chunk): the statistics stream, so the second may not raise the peak by more than
    5 % (run to run noise of the allocator; the figures for 10⁴ vs 10⁶ in fresh processes: docs/ensemble.md §4)."""
    code = textwrap.dedent(
        """
        import resource, sys
        import numpy as np
        import jaxthermo as jt
        model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.2, distribution=jt.Gaussian(0.1))
        for n in (4096, 40960):
            r = jt.ensemble(model, np.diag([0.8, 0.2]), 4, n, 1, chunk_size=512, work_range=(-1, 1),
                            collision_work_range=(-1, 1))
            assert r.work_histogram.total == n
            print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        """
    )
    small, large = map(int, fresh_python(code, {}).split())
    assert large <= 1.05 * small, (small, large)


CLI_KILLED = textwrap.dedent(
    """
    import os, signal, sys
    import jaxthermo as jt
    engine = jt.ensemble

    def dies_after_chunk_1(*args, callback=None, **kw):
        def check(chunk, done):
            if callback is not None:
                callback(chunk, done)
            print("finished", chunk, flush=True)
            if chunk == 1:
                os.kill(os.getpid(), signal.SIGKILL)
        return engine(*args, callback=check, **kw)

    jt.ensemble = dies_after_chunk_1
    from jaxthermo.apps.cli import main
    sys.exit(main(["run", sys.argv[1], "--no-plot", "--no-progress"]))
    """
)


def _cli_study(tmp_path, name):
    out = tmp_path / name
    config = tmp_path / f"{name}.toml"
    config.write_text(
        f"[study]\nout = {str(out)!r}\nseed = 3\n[model]\ntheta = 0.3\n"
        "[run]\nn_steps = 6\nn_configs = 500\nchunk_size = 128\n"
    )
    return str(config), out


@pytest.mark.slow  # subprocesses that import and compile anew: 35-190 s on 2 loaded cores
def test_the_command_killed_with_sigkill_resumes_its_finished_chunks(tmp_path, monkeypatch):
    """`jaxthermo run` killed with SIGKILL (no handler runs) after 2 of its 4 chunks: --resume computes chunks
    2 and 3 only and writes the numbers of an uninterrupted run."""
    pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    import xarray as xr

    from jaxthermo.apps import cli

    config, out = _cli_study(tmp_path, "killed")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", CLI_KILLED, config], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    with np.load(out / "checkpoint.npz") as z:
        assert int(z["configs_done"]) == 256
    assert not (out / "results.nc").exists()

    computed = []
    engine = jt.ensemble

    def recording(*args, callback=None, **kw):
        def record(chunk, done):
            computed.append(chunk)
            if callback is not None:
                callback(chunk, done)

        return engine(*args, callback=record, **kw)

    monkeypatch.setattr(jt, "ensemble", recording)
    assert cli.main(["run", config, "--no-plot", "--no-progress", "--resume"]) == 0
    assert computed == [2, 3]
    whole_config, whole = _cli_study(tmp_path, "whole")
    assert cli.main(["run", whole_config, "--no-plot", "--no-progress"]) == 0
    with (
        xr.open_dataset(out / "results.nc", engine="h5netcdf") as x,
        xr.open_dataset(whole / "results.nc", engine="h5netcdf") as y,
    ):
        assert set(x.data_vars) == set(y.data_vars)
        for name in x.data_vars:
            np.testing.assert_array_equal(x[name].values, y[name].values, err_msg=name)


def test_a_full_disk_is_named_before_the_first_chunk_and_at_a_failed_save(tmp_path, monkeypatch):
    """A full disk failed only at the save after the first chunk, with "[Errno 28] No space left on device"
    naming no file. Now a filesystem with less free space than the checkpoint needs (here: one byte less than
    the real file of this run) is refused before any chunk, naming the path; a save that fails anyway names
    the path and says the file keeps its previous save."""
    import collections
    import errno
    import shutil

    from jaxthermo.ensemble import _files

    done = tmp_path / "done.npz"
    jt.ensemble(_model(), RHO0, checkpoint=done, **ENSEMBLE)
    size = done.stat().st_size
    usage = collections.namedtuple("usage", "total used free")
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**9, 10**9, size - 1))
    path, ran = tmp_path / "run.npz", []
    with pytest.raises(OSError, match=re.escape(f"checkpoint={str(path)!r}")) as err:
        jt.ensemble(_model(), RHO0, checkpoint=path, callback=lambda c, n: ran.append(c), **ENSEMBLE)
    assert err.value.errno == errno.ENOSPC and ran == [] and not path.exists()
    monkeypatch.setattr(shutil, "disk_usage", real)

    _interrupted(path)  # chunks 0, 1 saved
    before = path.read_bytes()

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_files, "_write", full)
    with pytest.raises(OSError, match=re.escape(f"checkpoint={str(path)!r}") + ".*previous save"):
        jt.ensemble(_model(), RHO0, checkpoint=path, **ENSEMBLE)
    assert path.read_bytes() == before  # the finished chunks 0, 1 are still there
