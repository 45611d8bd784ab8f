"""``jaxthermo run`` of a ``study = "sweep"`` keeps its finished chunks (``checkpoint.npz``, or one
``checkpoint.n_steps<N>.npz`` per N): a stop (Ctrl-C, SIGTERM) lost every computed chunk of a CLI sweep,
and ``--resume`` was refused, although ``jt.sweep(checkpoint=)`` resumes."""

import textwrap

import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.apps import cli, study

N_CONFIGS, CHUNK = 512, 128


@pytest.fixture(autouse=True)
def _require_io():
    pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")


def _study(tmp_path, name, n_steps="[4, 6]"):
    out = tmp_path / name
    path = tmp_path / f"{name}.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [study]
            study = "sweep"
            out = {str(out)!r}
            seed = 3
            [run]
            n_steps = 6
            n_configs = {N_CONFIGS}
            chunk_size = {CHUNK}
            [grid]
            theta = [0.1, 0.3]
            n_steps = {n_steps}
            """
        )
    )
    return str(path), out


def _stop_at(monkeypatch, when):
    """jt.sweep whose run asks for a stop, as a signal does (the handler defers it), once ``when(chunks seen,
    configurations done)`` is true; the CLI's own callback then stops the run."""
    sweep, seen = jt.sweep, []

    def stopping(*args, callback=None, **kw):
        def announce(chunk, done):
            seen.append(done)
            if when(len(seen), done):
                assert study.defer_interrupt(KeyboardInterrupt()) is not None  # the run puts a stop off
            callback(chunk, done)

        return sweep(*args, callback=announce, **kw)

    monkeypatch.setattr(jt, "sweep", stopping)
    return seen


def _run(config, *flags):
    return cli.main(["run", config, "--no-plot", "--no-progress", *flags])


def _same_results(a, b):
    import xarray as xr

    with xr.open_dataset(a, engine="h5netcdf") as x, xr.open_dataset(b, engine="h5netcdf") as y:
        assert set(x.data_vars) == set(y.data_vars)
        for name in x.data_vars:
            np.testing.assert_allclose(x[name].values, y[name].values, rtol=1e-12, atol=0, err_msg=name)


def _configs_done(path):
    with np.load(path, allow_pickle=False) as f:
        return int(f["configs_done"])


def test_a_stopped_sweep_keeps_every_n_its_chunks_and_resumes_to_the_uninterrupted_numbers(
    tmp_path, monkeypatch, capsys
):
    config, out = _study(tmp_path, "stopped")
    with monkeypatch.context() as m:
        _stop_at(m, lambda k, done: k == 6)  # N = 4 finished (4 chunks), N = 6 two chunks in
        assert _run(config) == 130
    err = capsys.readouterr().err
    first, second = out / "checkpoint.n_steps4.npz", out / "checkpoint.n_steps6.npz"
    assert _configs_done(first) == N_CONFIGS and _configs_done(second) == 2 * CHUNK
    assert f"{first} ({N_CONFIGS} of {N_CONFIGS} configurations), {second} ({2 * CHUNK} of {N_CONFIGS}" in err
    assert "--resume" in err and "Traceback" not in err and not (out / "results.nc").exists()

    assert _run(config) == 2  # a plain rerun refuses the finished chunks, naming --resume and --restart
    err = capsys.readouterr().err
    assert "finished chunks" in err and "--resume" in err and "--restart" in err and first.exists()
    # every N's file named, with what it holds (the refusal named the first alone)
    assert f"{first} (4 chunks, {N_CONFIGS} configurations), {second} (2 chunks, {2 * CHUNK} configurations)" in err

    assert _run(config, "--resume") == 0
    said = capsys.readouterr().out  # with --no-progress nothing said it had resumed
    assert f"--resume: continuing {first}: {N_CONFIGS} of {N_CONFIGS} configurations finished" in said
    assert f"--resume: continuing {second}: {2 * CHUNK} of {N_CONFIGS} configurations finished" in said
    assert not first.exists() and not second.exists()  # finished: the checkpoints have served
    whole_config, whole = _study(tmp_path, "whole")
    assert _run(whole_config) == 0
    _same_results(out / "results.nc", whole / "results.nc")


def test_a_stop_at_the_last_chunk_of_an_earlier_n_stops_there(tmp_path, monkeypatch, capsys):
    """The last chunk of N = 4 is not the sweep's last: a stop asked for there ends the run at once (it
    waited for every later N and the results only after the sweep's very last chunk)."""
    config, out = _study(tmp_path, "early")
    with monkeypatch.context() as m:
        seen = _stop_at(m, lambda k, done: k == N_CONFIGS // CHUNK)
        assert _run(config) == 130
    assert seen == [CHUNK * (i + 1) for i in range(N_CONFIGS // CHUNK)]  # no chunk of N = 6 computed
    assert _configs_done(out / "checkpoint.n_steps4.npz") == N_CONFIGS
    assert not (out / "checkpoint.n_steps6.npz").exists() and not (out / "results.nc").exists()
    assert "--resume" in capsys.readouterr().err


def test_a_stop_after_the_last_chunk_writes_the_results_first(tmp_path, monkeypatch, capsys):
    config, out = _study(tmp_path, "last", n_steps="[5]")  # a grid of one N: checkpoint.npz itself
    with monkeypatch.context() as m:
        _stop_at(m, lambda k, done: k == N_CONFIGS // CHUNK)
        assert _run(config) == 130
    err = capsys.readouterr().err
    assert f"every configuration was finished and the results are written in {out}" in err
    assert (out / "results.nc").exists() and not (out / "checkpoint.npz").exists()


def test_resume_names_the_checkpoint_of_an_n_the_grid_no_longer_holds(tmp_path, monkeypatch, capsys):
    """[grid] n_steps [4, 6] → [4, 8] with --resume: N = 4 continued, N = 8 run afresh, and the file of N = 6 was
    left behind without a word; now said, and left as it is."""
    config, out = _study(tmp_path, "changed")
    with monkeypatch.context() as m:
        _stop_at(m, lambda k, done: k == 6)
        assert _run(config) == 130
    capsys.readouterr()
    changed, _ = _study(tmp_path, "changed", n_steps="[4, 8]")
    assert _run(changed, "--resume") == 0
    said = capsys.readouterr().out
    six = out / "checkpoint.n_steps6.npz"
    assert f"--resume: {six} is not read by this study (no such N in [grid] n_steps); left as it is" in said
    assert six.exists() and _configs_done(six) == 2 * CHUNK


def test_restart_discards_every_n_and_resume_without_checkpoints_starts_afresh(tmp_path, monkeypatch, capsys):
    config, out = _study(tmp_path, "restart")
    assert _run(config, "--resume") == 0
    assert "--resume: no " in capsys.readouterr().out
    with monkeypatch.context() as m:
        _stop_at(m, lambda k, done: k == 6)
        assert _run(config) == 130
    capsys.readouterr()
    assert _run(config, "--restart") == 0
    said = capsys.readouterr().out
    assert "--restart: discarded" in said and "checkpoint.n_steps4.npz" in said and "checkpoint.n_steps6.npz" in said
    assert not list(out.glob("checkpoint*.npz"))
