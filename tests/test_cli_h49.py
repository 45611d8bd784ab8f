"""The ``jaxthermo`` command on long runs (helper-49): signals, checkpoints, figures."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from jaxthermo.apps import cli


def _require_io():
    pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")


N_CONFIGS, CHUNK = 1024, 128


def _study(tmp_path, out, **run):
    text = textwrap.dedent(
        f"""
        [study]
        out = {str(out)!r}
        seed = 3
        [model]
        theta = 0.3
        [run]
        n_steps = 12
        n_configs = {N_CONFIGS}
        chunk_size = {CHUNK}
        """
    )
    path = tmp_path / f"{out.name}.toml"
    path.write_text(text)
    return str(path)


def _slow_run(config, *flags):
    """``jaxthermo run`` in a subprocess whose chunks are slowed down (0.4 s each, after the checkpoint
    is written) and announced on stdout as "chunk <configurations done>"."""
    code = textwrap.dedent(
        f"""
        import sys, time
        import jaxthermo as jt
        engine = jt.ensemble

        def slow(*args, callback=None, **kw):
            def announce(chunk, done):
                print("chunk", done, flush=True)
                time.sleep(0.4)
                if callback is not None:
                    callback(chunk, done)
            return engine(*args, callback=announce, **kw)

        jt.ensemble = slow
        from jaxthermo.apps.cli import main
        sys.exit(main(["run", {config!r}, "--no-plot", "--no-progress", *{list(flags)!r}]))
        """
    )
    return subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
    )


def _signal_after_chunks(proc, signum, n_chunks=2, timeout=240):
    seen = []
    deadline = time.monotonic() + timeout
    while len(seen) < n_chunks and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("chunk"):
            seen.append(int(line.split()[1]))
    assert len(seen) == n_chunks, (seen, proc.stderr.read() if proc.poll() is not None else "")
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=timeout)
    return seen, out, err


def _configs_done(path):
    with np.load(path, allow_pickle=False) as f:
        return int(f["configs_done"])


def _same_results(a, b):
    import xarray as xr

    with xr.open_dataset(a, engine="h5netcdf") as x, xr.open_dataset(b, engine="h5netcdf") as y:
        assert set(x.data_vars) == set(y.data_vars)
        for name in x.data_vars:
            np.testing.assert_allclose(x[name].values, y[name].values, rtol=1e-12, atol=0, err_msg=name)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signalled_run_keeps_its_chunks_says_how_to_resume_and_resumes_to_the_same_numbers(tmp_path, signum):
    """`kill -TERM` ended the process at once (status -15) without a word; now SIGTERM and SIGINT both
    end with the finished configurations on disk, a message naming the checkpoint and --resume, and
    the shell's status 128 + signal; the resumed run equals an uninterrupted one."""
    _require_io()
    out = tmp_path / "run"
    config = _study(tmp_path, out)
    proc = _slow_run(config)
    seen, _, err = _signal_after_chunks(proc, signum)
    assert proc.returncode == 128 + signum, err
    checkpoint = out / "checkpoint.npz"
    assert checkpoint.exists() and not (out / "results.nc").exists()
    done = _configs_done(checkpoint)
    assert done >= seen[-1] and done % CHUNK == 0 and done < N_CONFIGS  # no finished chunk lost
    assert f"({done} of {N_CONFIGS} configurations) are kept in {checkpoint}" in err
    assert "--resume" in err and "Traceback" not in err

    assert cli.main(["run", config, "--no-plot", "--no-progress", "--resume"]) == 0
    whole = tmp_path / "whole"
    assert cli.main(["run", _study(tmp_path, whole), "--no-plot", "--no-progress"]) == 0
    _same_results(out / "results.nc", whole / "results.nc")


def test_the_handlers_are_restored_after_the_command(tmp_path, monkeypatch):
    import jaxthermo.apps.demo as demo

    pytest.importorskip("matplotlib")  # the demo command asks for it before running

    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(demo, "run_demo", lambda **kw: 0)
    assert cli.main(["demo", "--out", str(tmp_path / "d"), "--configs", "3"]) == 0
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_sigterm_outside_an_ensemble_stops_at_once_with_status_143(tmp_path, monkeypatch, capsys):
    import jaxthermo.apps.demo as demo

    pytest.importorskip("matplotlib")

    def killed(**kw):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises here
        return 0

    monkeypatch.setattr(demo, "run_demo", killed)
    start = time.monotonic()
    assert cli.main(["demo", "--out", str(tmp_path / "d"), "--configs", "3"]) == 143
    assert time.monotonic() - start < 4
    assert "jaxthermo demo: terminated (SIGTERM)" in capsys.readouterr().err


# ---------------------------------------------------------------- checkpoints of the format before chunk_size


def _write_legacy_checkpoint(monkeypatch, run):
    """Run ``run()`` with checkpoints written as jaxthermo wrote them before the chunk size was
    recorded (no configs_done, chunk_size or identity; the fingerprint includes the chunk size)."""
    from jaxthermo.ensemble import _files

    def legacy_save(self, configs_done, stats):
        arrays = dict(
            fingerprint=np.asarray(self.legacy_fingerprint),
            chunks_done=np.asarray(-(-int(configs_done) // self.chunk_size), np.int64),
            **{k: np.asarray(v) for k, v in _files.flatten_stats(stats).items()},
        )
        _files._write(self.path, _files.CHECKPOINT, arrays)

    with monkeypatch.context() as m:
        m.setattr(_files.Checkpoint, "save", legacy_save)
        with pytest.raises(KeyboardInterrupt):
            run()


def test_an_old_format_checkpoint_names_the_chunk_size_it_resumes_with(tmp_path, monkeypatch):
    """Such a file resumed with another chunk size was refused as 'a different run (parameters, seed,
    precision, statistics or histogram edges differ ...)', chunk_size unnamed; now the message names
    chunk_size and the value, inferred from the file (3 chunks holding 384 configurations: 128), and
    that value resumes to the uninterrupted numbers."""
    import jaxthermo as jt
    from jaxthermo.ensemble._files import CheckpointMismatch

    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.05))
    rho0 = jt.thermal_state(2, 1.0, 1.0)
    path = str(tmp_path / "old.npz")

    def stop(chunk, done):
        if done >= 3 * CHUNK:
            raise KeyboardInterrupt

    kw = dict(n_steps=10, n_configs=N_CONFIGS, seed=0)
    _write_legacy_checkpoint(
        monkeypatch, lambda: jt.ensemble(model, rho0, chunk_size=CHUNK, checkpoint=path, callback=stop, **kw)
    )
    with np.load(path) as f:
        assert "configs_done" not in f.files and int(f["chunks_done"]) == 3
    with pytest.raises(CheckpointMismatch) as err:
        jt.ensemble(model, rho0, chunk_size=2 * CHUNK, checkpoint=path, **kw)
    assert f"chunk_size: {2 * CHUNK} here, {CHUNK} in the checkpoint" in str(err.value)
    assert f"resumes only with chunk_size={CHUNK}" in str(err.value)
    resumed = jt.ensemble(model, rho0, chunk_size=CHUNK, checkpoint=path, **kw)
    assert resumed.info["chunks_resumed"] == 3
    fresh = jt.ensemble(model, rho0, chunk_size=CHUNK, **kw)
    np.testing.assert_allclose(resumed.mean_work, fresh.mean_work, rtol=1e-12)
    np.testing.assert_array_equal(resumed.work_histogram.counts, fresh.work_histogram.counts)


def test_an_old_format_checkpoint_names_run_chunk_size_on_the_command_line(tmp_path, monkeypatch, capsys):
    _require_io()
    from jaxthermo.apps import study

    out = tmp_path / "run"
    config = _study(tmp_path, out)

    def stop(chunk, done):
        if done >= 2 * CHUNK:
            raise KeyboardInterrupt

    monkeypatch.setattr(study, "_stop_if_asked", stop)
    _write_legacy_checkpoint(
        monkeypatch, lambda: study.run_study(study.cfgmod.resolve(study.load_toml(config)), progress=False, plot=False)
    )
    monkeypatch.undo()
    text = open(config).read().replace(f"chunk_size = {CHUNK}", f"chunk_size = {4 * CHUNK}")
    open(config, "w").write(text)
    assert cli.main(["run", config, "--no-plot", "--no-progress", "--resume"]) == 2
    err = capsys.readouterr().err
    assert f"[run] chunk_size: {4 * CHUNK} here, {CHUNK} in the checkpoint" in err
    assert f"resumes only with [run] chunk_size = {CHUNK}" in err


# ---------------------------------------------------------------- summary.png


def test_summary_of_a_run_without_work_says_so_instead_of_a_histogram_of_rounding(tmp_path):
    """kind = "temperature": g_r = g0, the partial swap commutes with H_S + H_r and W_N = 0 exactly in
    every configuration; the W_N panel was one bar of density 3e13 on a ±1e-12 axis (a histogram of
    rounding); now it states the value."""
    pytest.importorskip("matplotlib")
    _require_io()
    from jaxthermo.apps import summary
    from jaxthermo.apps._plotting import pyplot
    from jaxthermo.apps.study import open_results

    out = tmp_path / "t"
    args = ["ensemble", "--kind", "temperature", "--d", "3", "--configs", "200", "--steps", "5", "--out", str(out)]
    assert cli.main([*args, "--no-progress", "--no-plot"]) == 0
    ds = open_results(out / "results.nc")
    assert float(ds.var_cumulative_work.values[-1]) == 0.0
    fig = summary._ensemble(pyplot(), ds)
    panel = fig.axes[3]
    assert not panel.patches  # no bars
    assert any("W_N = 0 in every configuration" in t.get_text() for t in panel.texts)
    assert any("temperature inhomogeneity does no work" in t.get_text() for t in panel.texts)


def test_python_dash_m_jaxthermo_runs_the_command(tmp_path):
    """`python -m jaxthermo ...` failed ('No module named jaxthermo.__main__', status 1)."""
    out = subprocess.run(
        [sys.executable, "-m", "jaxthermo", "init", str(tmp_path / "s.toml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "s.toml").read_text().startswith("# jaxthermo study")
    bad = subprocess.run([sys.executable, "-m", "jaxthermo", "nonsense"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "invalid choice: 'nonsense'" in bad.stderr


# ---------------------------------------------------------------- the engine's refusals


def test_a_run_too_long_for_memory_is_one_line_naming_the_option_not_a_traceback(tmp_path, capsys):
    """N = 10^9 collisions need ≥ 536 bytes × 10^9 = 499 GiB (per-collision statistics, δ draws): the
    engine refuses it before computing, but the command ended in a ValueError traceback."""
    _require_io()
    args = ["ensemble", "--steps", "1e9", "--configs", "10", "--out", str(tmp_path / "e"), "--no-progress", "--no-plot"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxthermo ensemble: error: --steps: n_steps=1000000000: the run needs at least")
    config = tmp_path / "s.toml"
    config.write_text(
        f'[study]\nstudy = "sweep"\nout = {str(tmp_path / "s")!r}\n[run]\nn_configs = 10\nn_steps = 3\n'
        "[grid]\nn_steps = [3, 1000000000]\n"
    )
    assert cli.main(["run", str(config), "--no-progress", "--no-plot"]) == 2
    assert capsys.readouterr().err.startswith("jaxthermo run: error: [grid] n_steps: n_steps=1000000000: the run needs")
    assert not (tmp_path / "s" / "results.nc").exists()
