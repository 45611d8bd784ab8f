"""A user pass of `jaxthermo run`/`jaxthermo ensemble`: a plain rerun no longer deletes the finished
chunks of an earlier run (it refuses; --resume continues them, --restart discards them), [run] alphas
takes any real Rényi order as jt.ensemble does, an unusable --out is named as --out, an unknown option
of a subcommand is reported with that subcommand's usage, and a signal after the last chunk lets the
results be written."""

import os
import signal
from functools import partial

import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.apps import cli, study
from jaxthermo.apps.config import ConfigError, dumps, resolve
from jaxthermo.ensemble import _engine as engine

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")

N_CONFIGS, CHUNK = 400, 100


def _config(tmp_path, out, **run):
    raw = {
        "study": {"out": str(out), "seed": 0},
        "run": dict({"n_steps": 3, "n_configs": N_CONFIGS, "chunk_size": CHUNK}, **run),
    }
    path = tmp_path / "study.toml"
    path.write_text(dumps(resolve(raw)))
    return str(path)


def _run(config, *extra):
    return cli.main(["run", config, "--no-progress", "--no-plot", *extra])


def _engine_calling(monkeypatch, action):
    """jt.ensemble whose callback first calls ``action(configs_done)`` (after the chunk's checkpoint write)."""
    real = jt.ensemble

    def engine(*a, callback=None, **kw):
        def cb(chunk, done):
            action(done)
            if callback is not None:
                callback(chunk, done)

        return real(*a, callback=cb, **kw)

    monkeypatch.setattr(jt, "ensemble", engine)


def _stop_after(configs):
    def action(done):
        if done >= configs:
            raise KeyboardInterrupt

    return action


def _open(out):
    with xr.open_dataset(out / "results.nc", engine="h5netcdf") as ds:
        return ds.load()


# ---------------------------------------------------------------- 1. finished chunks are never deleted unasked


def test_a_plain_rerun_refuses_finished_chunks_and_restart_discards_them(tmp_path, monkeypatch, capsys):
    """A rerun without --resume printed 'discarded …/checkpoint.npz (2 finished chunks of an earlier run);
    --resume would have continued it' and deleted them; now it stops with status 2 and one line saying
    what the folder holds and the two ways on, and --restart discards them."""
    out = tmp_path / "out"
    config = _config(tmp_path, out)
    with monkeypatch.context() as m:
        _engine_calling(m, _stop_after(2 * CHUNK))
        assert _run(config) == 130
    checkpoint = out / "checkpoint.npz"
    kept = checkpoint.read_bytes()
    capsys.readouterr()

    assert _run(config) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"jaxthermo run: error: [study] out: {out} holds 2 finished chunks (200 configurations) of an earlier run "
        f"in {checkpoint}; run with --resume to continue them, or with --restart to discard them and start again\n"
    )
    assert "discarded" not in captured.out and checkpoint.read_bytes() == kept
    assert not (out / "results.nc").exists()

    # `jaxthermo ensemble` says the same with its option
    args = ["ensemble", "--steps", "3", "--configs", "4", "--out", str(out), "--no-plot", "--no-progress"]
    assert cli.main(args) == 2
    assert capsys.readouterr().err.startswith(f"jaxthermo ensemble: error: --out: {out} holds 2 finished chunks")
    assert checkpoint.read_bytes() == kept

    with pytest.raises(SystemExit) as stop:  # one or the other
        _run(config, "--resume", "--restart")
    assert stop.value.code == 2
    assert "--restart: not allowed with argument --resume" in capsys.readouterr().err

    with monkeypatch.context() as m:
        seen = []
        _engine_calling(m, seen.append)
        assert _run(config, "--restart") == 0
    assert seen[0] == CHUNK  # started again from configuration 0
    assert f"--restart: discarded {checkpoint} (2 finished chunks of an earlier run)" in capsys.readouterr().out
    assert not checkpoint.exists() and (out / "results.nc").exists()


def test_resume_with_fewer_configurations_than_finished_names_n_configs(tmp_path, monkeypatch, capsys):
    """--resume with a [run] n_configs below the checkpoint's finished configurations (and below 512, where
    the pilot's default edges follow n_configs) is refused naming [run] n_configs, not the edges' hashes."""
    out = tmp_path / "out"
    with monkeypatch.context() as m:
        _engine_calling(m, _stop_after(2 * CHUNK))
        assert _run(_config(tmp_path, out)) == 130
    kept = (out / "checkpoint.npz").read_bytes()
    capsys.readouterr()
    assert _run(_config(tmp_path, out, n_configs=150), "--resume") == 2
    err = capsys.readouterr().err
    assert "[run] n_configs: 150 here, 200 finished in the checkpoint" in err and "sha256" not in err
    assert (out / "checkpoint.npz").read_bytes() == kept


def test_resume_after_the_refusal_continues_the_finished_chunks(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    config = _config(tmp_path, out)
    with monkeypatch.context() as m:
        _engine_calling(m, _stop_after(2 * CHUNK))
        assert _run(config) == 130
    assert _run(config) == 2
    with monkeypatch.context() as m:
        seen = []
        _engine_calling(m, seen.append)
        assert _run(config, "--resume") == 0
    assert seen == [3 * CHUNK, 4 * CHUNK]  # the two unfinished chunks only
    resumed = _open(out)
    assert _run(_config(tmp_path, tmp_path / "whole")) == 0
    np.testing.assert_allclose(resumed.mean_work.values, _open(tmp_path / "whole").mean_work.values, rtol=1e-12)


def test_mismatched_checkpoint_advice_names_restart(tmp_path, monkeypatch, capsys):
    """--resume onto a checkpoint of other settings advised 'run without --resume', which now refuses."""
    out = tmp_path / "out"
    with monkeypatch.context() as m:
        _engine_calling(m, _stop_after(CHUNK))
        assert _run(_config(tmp_path, out)) == 130
    assert _run(_config(tmp_path, out, n_steps=4), "--resume") == 2
    err = capsys.readouterr().err
    assert "[run] n_steps: 4 here, 3 in the checkpoint" in err
    assert "run with --restart instead of --resume to start afresh" in err
    assert _run(_config(tmp_path, out, n_steps=4), "--restart") == 0


# ---------------------------------------------------------------- 2. any real Rényi order, as the library


def test_alphas_take_any_real_order_as_the_library(tmp_path, capsys):
    """[run] alphas = [0.0, 1.0] or [-1.0, 0.5] was refused ('a list of positive numbers'), while
    jt.ensemble(..., alphas=(-1.0,)), (0.0,) and (-inf,) compute them."""
    alphas = [-np.inf, -1.0, 0.0, 0.5, 1.0, np.inf]
    out = tmp_path / "out"
    config = tmp_path / "a.toml"
    config.write_text(
        f'[study]\nout = "{out}"\n[run]\nn_steps = 3\nn_configs = 200\nalphas = [-inf, -1.0, 0, 0.5, 1.0, inf]\n'
    )
    assert _run(str(config)) == 0
    ds = _open(out)
    np.testing.assert_array_equal(ds.alpha.values, alphas)
    model = study.build_model_a(resolve({"run": {"n_steps": 3}}))
    res = jt.ensemble(model, jt.thermal_state(2, 1.0, 1.0), 3, 200, seed=0, alphas=tuple(alphas))
    np.testing.assert_allclose(ds.mean_divergence.values, np.asarray(res.mean_divergence), rtol=1e-12)
    assert "alphas = [-inf, -1.0, 0.0, 0.5, 1.0, inf]" in (out / "config.resolved.toml").read_text()
    assert _run(str(out / "config.resolved.toml"), "--out", str(tmp_path / "again")) == 0  # -inf reads back


@pytest.mark.parametrize("value", ["[nan]", '["two"]', "[true]", "[1.0, [2.0]]"])
def test_alphas_refuse_nan_and_what_is_not_a_number(value, tmp_path, capsys):
    config = tmp_path / "a.toml"
    config.write_text(f'[study]\nout = "{tmp_path / "out"}"\n[run]\nalphas = {value}\n')
    assert _run(str(config)) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxthermo run: error: [run] alphas = ")
    assert "must be a list of real numbers (inf and -inf allowed, nan not)" in err
    with pytest.raises(ValueError, match="not NaN"):  # the library refuses NaN too
        jt.ensemble(study.build_model_a(resolve({})), np.diag([1.0, 0.0]), 2, 4, 0, alphas=(np.nan,))


def test_negative_alphas_with_a_coherent_rho0_are_refused_before_computing(tmp_path, capsys, monkeypatch):
    """A negative order with a coherent ρ0 was a 66-line traceback of `jaxthermo run` (exit 1), raised while the
    chunk was traced: the Petz divergence is implemented for α ≥ 0 only. The engine now refuses it on entry,
    naming alphas (jt.ensemble, jt.sweep), and the command line names [run] alphas (exit 2)."""
    config = tmp_path / "a.toml"
    config.write_text(
        f'[study]\nout = "{tmp_path / "out"}"\n[initial_state]\nname = "populations"\npopulations = [0.3, 0.7]\n'
        "phases = [0.0, 0.5]\n[run]\nn_steps = 3\nn_configs = 100\nalphas = [-1.0, 1.0]\n"
    )
    assert _run(str(config)) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxthermo run: error: [run] alphas: alphas=(-1.0, 1.0): rho0 has coherences")
    assert "Traceback" not in err
    model = study.build_model_a(resolve({}))
    coherent = np.array([[0.3, 0.2], [0.2, 0.7]])
    monkeypatch.setattr(engine, "make_mesh", lambda *a: pytest.fail("reached the run before refusing alphas"))
    for call in (jt.ensemble, partial(jt.sweep, grid={"theta": [0.1, 0.2]})):
        with pytest.raises(ValueError, match=r"^alphas=\(-inf,\): rho0 has coherences.*alpha >= 0"):
            call(model, coherent, 3, 100, 0, alphas=(-np.inf,))
    monkeypatch.undo()
    res = jt.ensemble(model, coherent, 3, 100, 0, alphas=(-1.0,), coherent=False)  # the classical D_α of populations
    assert np.all(np.isfinite(res.mean_divergence))
    diagonal = jt.ensemble(model, np.diag([0.3, 0.7]), 3, 100, 0, alphas=(-1.0, 0.0))  # diagonal: any real order
    assert np.all(np.isfinite(diagonal.mean_divergence))


def test_alphas_zero_and_negative_resolve():
    assert resolve({"run": {"alphas": [0.0, 1.0]}})["run"]["alphas"] == [0.0, 1.0]
    assert resolve({"run": {"alphas": [-1, 0.5]}})["run"]["alphas"] == [-1.0, 0.5]
    with pytest.raises(ConfigError, match="given more than once"):
        resolve({"run": {"alphas": [0.0, -0.0]}})


# ---------------------------------------------------------------- 3. --out named as --out


def test_an_out_option_naming_a_file_is_reported_as_out(tmp_path, capsys):
    config = _config(tmp_path, tmp_path / "out")
    assert _run(config, "--out", config) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"jaxthermo run: error: --out = {config!r}: is a file") and "[study] out" not in err


# ---------------------------------------------------------------- 4. a subcommand's usage for its unknown option


@pytest.mark.parametrize(
    "argv",
    [
        ["ensemble", "--thetaa", "0.1"],
        ["run", "study.toml", "--resumee"],
        ["run", "study.toml", "second.toml"],
        ["demo", "--confgs", "3"],
        ["--bogus"],
    ],
)
def test_an_unknown_option_is_reported_with_its_subcommands_help(argv, capsys):
    """Reported with the top-level usage before; then with the subcommand's whole usage (12 lines before the
    error); now one line naming the subcommand and its --help."""
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    name = f"jaxthermo {argv[0]}" if not argv[0].startswith("-") else "jaxthermo"
    unknown = " ".join(argv[{"run": 2, "ensemble": 1, "demo": 1}.get(argv[0], 0) :])
    assert err == f"{name}: error: unrecognized arguments: {unknown} (`{name} --help` lists the options)\n", err


# ---------------------------------------------------------------- 5. a signal after the last chunk


def _signal_at(configs, signum):
    def action(done):
        if done >= configs:
            os.kill(os.getpid(), signum)  # the command's handler runs here and puts the stop off

    return action


def test_sigterm_after_the_last_chunk_writes_the_results_then_stops(tmp_path, monkeypatch, capsys):
    """SIGTERM during the last chunk ended with 'the finished chunks (400 of 400 configurations) are kept
    in …checkpoint.npz; run the same command with --resume to continue': every configuration was
    computed, but the results were not written. Now they are, and the status is still 143."""
    out = tmp_path / "out"
    with monkeypatch.context() as m:
        _engine_calling(m, _signal_at(N_CONFIGS, signal.SIGTERM))
        assert _run(_config(tmp_path, out)) == 143
    err = capsys.readouterr().err
    assert "SIGTERM received; stopping once the running chunk is saved" in err
    assert f"terminated (SIGTERM); every configuration was finished and the results are written in {out}" in err
    assert "--resume" not in err
    assert (out / "results.nc").exists() and (out / "config.resolved.toml").exists()
    assert not (out / "checkpoint.npz").exists()
    assert int(_open(out).attrs["n_configs"]) == N_CONFIGS


def test_sigterm_before_the_last_chunk_still_keeps_the_chunks_to_resume(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    with monkeypatch.context() as m:
        _engine_calling(m, _signal_at(2 * CHUNK, signal.SIGTERM))
        assert _run(_config(tmp_path, out)) == 143
    err = capsys.readouterr().err
    assert f"(200 of {N_CONFIGS} configurations) are kept in {out / 'checkpoint.npz'}" in err and "--resume" in err
    assert not (out / "results.nc").exists()
