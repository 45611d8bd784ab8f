"""`jaxthermo run` outputs: the folder is checked before computing, results.nc and
config.resolved.toml are replaced together and only by a finished run, checkpoints are handled
with a word to the user."""

import os

import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.apps import cli, study
from jaxthermo.apps.config import dumps, resolve

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")


def _config(tmp_path, out, seed=0, **run):
    raw = {"study": {"out": str(out), "seed": seed}, "run": dict({"n_steps": 3, "n_configs": 64}, **run)}
    path = tmp_path / f"study{seed}.toml"
    path.write_text(dumps(resolve(raw)))
    return str(path)


def _not_computed(monkeypatch):
    def fail(*a, **kw):
        raise AssertionError("computed although the output folder is unusable")

    monkeypatch.setattr(study, "run_model_a", fail)


@pytest.mark.parametrize("layout", ["out_is_a_file", "results_is_a_folder", "impossible_path"])
def test_an_unusable_output_folder_is_refused_before_computing(layout, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    if layout == "out_is_a_file":
        out.write_text("not a folder")
    elif layout == "results_is_a_folder":
        (out / "results.nc").mkdir(parents=True)
    else:
        out = tmp_path / "file" / "sub"
        (tmp_path / "file").write_text("")
    _not_computed(monkeypatch)
    assert cli.main(["run", _config(tmp_path, out), "--no-progress", "--no-plot"]) == 2
    err = capsys.readouterr().err
    assert f"[study] out = {str(out)!r}" in err and "Traceback" not in err


def _outputs(out):
    return {name: (out / name).read_bytes() for name in ("results.nc", "config.resolved.toml")}


def test_a_failed_rerun_leaves_the_previous_results_and_config_whole(tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert cli.main(["run", _config(tmp_path, out), "--no-progress", "--no-plot"]) == 0
    before = _outputs(out)

    def broken_write(self, path, *a, **kw):
        open(path, "wb").write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", broken_write)
    with pytest.raises(OSError, match="disk full"):
        cli.main(["run", _config(tmp_path, out, seed=1), "--no-progress", "--no-plot"])
    assert _outputs(out) == before
    assert not [name for name in os.listdir(out) if name.endswith(".tmp")]  # no temporary file left


def test_a_killed_run_leaves_the_previous_config_with_its_results(tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert cli.main(["run", _config(tmp_path, out), "--no-progress", "--no-plot"]) == 0
    before = _outputs(out)

    def killed(*a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(jt, "ensemble", killed)
    # the command ends with status 130 and a message (tests/test_cli.py), not a traceback
    assert cli.main(["run", _config(tmp_path, out, seed=1), "--no-progress", "--no-plot"]) == 130
    assert _outputs(out) == before


def test_results_can_be_replaced_while_a_reader_holds_them_open(tmp_path):
    out = tmp_path / "out"
    assert cli.main(["run", _config(tmp_path, out), "--no-progress", "--no-plot"]) == 0
    with xr.open_dataset(out / "results.nc", engine="h5netcdf") as held:
        assert cli.main(["run", _config(tmp_path, out, seed=1), "--no-progress", "--no-plot"]) == 0
        assert held.attrs["seed"] == 0
    with xr.open_dataset(out / "results.nc", engine="h5netcdf") as ds:
        assert ds.attrs["seed"] == 1


def test_a_plain_rerun_refuses_finished_chunks_restart_discards_them_and_stale_temporaries_go(tmp_path, capsys):
    """A rerun without --resume used to discard the checkpoint's finished chunks; it now refuses them
    (tests/test_cli_user_pass.py runs the command) and ``restart=True`` (--restart) discards them."""
    out = tmp_path / "out"
    cfg = resolve({"study": {"out": str(out)}, "run": {"n_steps": 3, "n_configs": 400, "chunk_size": 100}})
    real = jt.ensemble

    def killed(*a, **kw):
        def cb(chunk, done):
            if done >= 200:
                raise KeyboardInterrupt

        return real(*a, **dict(kw, callback=cb))

    out.mkdir()
    stale = out / ".checkpoint.npz.k1ll3d.tmp"
    stale.write_bytes(b"half a checkpoint")
    try:
        jt.ensemble = killed
        with pytest.raises(KeyboardInterrupt):
            study.run_model_a(cfg, progress=False, out=str(out))
    finally:
        jt.ensemble = real
    assert not stale.exists()  # removed when the run took the checkpoint
    assert (out / "checkpoint.npz").exists()
    capsys.readouterr()
    kept = (out / "checkpoint.npz").read_bytes()
    with pytest.raises(study.cfgmod.ConfigError, match="holds 2 finished chunks .* --resume .* --restart"):
        study.run_model_a(cfg, progress=False, out=str(out))
    assert (out / "checkpoint.npz").read_bytes() == kept
    res, _ = study.run_model_a(cfg, progress=False, restart=True, out=str(out))
    assert res.info["chunks_resumed"] == 0
    notice = capsys.readouterr().out
    assert "--restart: discarded" in notice and "2 finished chunks" in notice
    np.testing.assert_equal(res.n_configs, 400)


def test_a_failed_figure_write_leaves_the_previous_png_whole(tmp_path):
    """summary.png / demo.png / figure PNGs go through a temporary file: a write that fails midway
    leaves the old figure byte for byte and no temporary behind."""
    pytest.importorskip("matplotlib")
    from jaxthermo.apps._plotting import pyplot, save_figure

    plt = pyplot()
    path = tmp_path / "summary.png"
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    save_figure(fig, path, dpi=50)
    before = path.read_bytes()
    assert before.startswith(b"\x89PNG")

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])

    def half_written(target, **kw):
        with open(target, "wb") as fh:
            fh.write(b"\x89PNG partial")
        raise OSError("disk full")

    fig.savefig = half_written
    with pytest.raises(OSError, match="disk full"):
        save_figure(fig, path, dpi=50)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.png"]


@pytest.mark.parametrize("command", ["demo", "figures"])
def test_demo_and_figures_refuse_an_unusable_folder_before_computing(command, tmp_path, monkeypatch, capsys):
    """`jaxthermo demo --out FILE` computed the whole ensemble, then died in os.makedirs with a traceback."""
    from jaxthermo.apps import demo, figures

    def fail(*a, **kw):
        raise AssertionError("computed although the output folder is unusable")

    monkeypatch.setattr(demo, "ensemble", fail)
    monkeypatch.setattr(figures, "make_figure", fail)
    out = tmp_path / "a file"
    out.write_text("")
    args = ["--out", str(out)] + (["--configs", "10"] if command == "demo" else ["--only", "fig4"])
    assert cli.main([command, *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"jaxthermo {command}: error: --out {str(out)!r}: is a file") and "Traceback" not in err


def test_figures_are_written_with_the_permissions_of_the_umask(tmp_path):
    """summary.png, demo.png and the figures were private (0600, mkstemp's mode) beside 0644 CSVs."""
    from jaxthermo.apps._plotting import pyplot, save_figure

    old = os.umask(0o022)
    try:
        fig = pyplot().figure()
        save_figure(fig, tmp_path / "f.png", dpi=20)
        (tmp_path / "f.csv").write_text("x\n")  # what open() gives under the same umask
    finally:
        os.umask(old)
    assert (tmp_path / "f.png").stat().st_mode & 0o777 == (tmp_path / "f.csv").stat().st_mode & 0o777 == 0o644
