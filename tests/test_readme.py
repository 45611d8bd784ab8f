"""The README runs as written: every python block, the `jaxthermo` commands of its shell block and
its study file (with smaller sizes, in one process), and the files, messages and Dataset layout it
promises. Numbers of the quickstart obey the first law."""

import pathlib
import re
import shlex
import tomllib

import numpy as np
import pytest

from jaxthermo.apps import cli

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def _python_blocks():
    return _blocks("python")


def test_quickstart_runs_as_written(capsys):
    blocks = _python_blocks()
    assert blocks, "README has no python block"
    namespace: dict = {}
    exec(compile(blocks[0], "README quickstart", "exec"), namespace)
    traj = namespace["traj"]
    assert abs(float(traj.work.sum() + traj.heat.sum() - traj.energy_change.sum())) < 1e-14
    assert capsys.readouterr().out.strip()


def test_every_readme_python_block_runs_and_prints_what_its_comments_say():
    spaces = {}
    for i, block in enumerate(_python_blocks()[1:], start=1):
        spaces[block] = {}
        exec(compile(block, f"README block {i}", "exec"), spaces[block])

    def space(marker):
        (ns,) = [ns for block, ns in spaces.items() if marker in block]
        return ns

    ns = space("τ̄ not thermal")  # ΔF_1 ≤ W, but ΔF_∞ > W; q1² ≠ q0 q2
    q, laws = ns["q"], ns["laws"]
    assert abs(float(q[1] ** 2 - q[0] * q[2])) > 1e-4
    assert laws.free_energy_change[1] <= laws.work < laws.free_energy_change[-1]
    ns = space("= ΔS =")  # β(W − ΔF_1) = ΔS, C(ρ) = F_1(ρ) − F_1(Δρ) at T = 1
    jt, model, rho, laws = ns["jt"], ns["model"], ns["rho"], ns["laws"]
    np.testing.assert_allclose(laws.work - laws.free_energy_change[1], jt.entropy_production(model, rho, 0.1), 1e-12)
    # "coherence adds T·C(ρ) to F_1": F_1 of ρ minus F_1 of its populations, against NumPy's entropies
    p = np.real(np.diag(np.asarray(rho)))
    eig = np.linalg.eigvalsh(np.asarray(rho))
    c_numpy = -np.sum(p * np.log(p)) + np.sum(eig[eig > 1e-15] * np.log(eig[eig > 1e-15]))
    f_q, f_c = (jt.free_energies(model, rho, [1.0], quantum=q)[0] for q in (True, False))
    np.testing.assert_allclose([float(jt.coherence(rho)), float(f_q - f_c)], [c_numpy, c_numpy / model.beta], 1e-12)
    assert space("exact propagator")["states"].shape == (64, 51, 2, 2)
    assert space("d_lam, d_beta")["d_lam"].shape == (64, 5)
    ns = space("gives K_S = H")
    assert float(np.max(np.abs(ns["K"] - ns["res"].h1))) < 1e-10
    ns = space("sw.stack(")  # the engine's shapes and the histogram's total
    res = ns["res"]
    assert res.mean_state.shape == (101, 2, 2) and res.mean_work.shape == (100,)
    assert res.work_histogram.edges.shape == (65,) and res.work_histogram.total == res.n_configs == 4000
    assert ns["sw"].stack("mean_total_work").shape == (2, 2)
    ds = space("to_netcdf")["ds"]
    assert ds.mean_work.dims == ("collision",) and ds.mean_divergence.sel(alpha=1.0).dims == ("step",)


def _cli_block():
    (block,) = [b for b in _blocks("bash") if "jaxthermo init" in b]
    return [line.split("#", 1) for line in block.splitlines() if line.startswith("jaxthermo ")]


# what the README's sizes become in the test (the commands and options stay as written)
_SMALLER = {"--steps": "12", "--configs": "300"}


def test_cli_block_runs_as_written_with_smaller_sizes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    commands = _cli_block()
    assert [shlex.split(c)[1] for c, _ in commands] == ["init", "run", "run", "ensemble", "ensemble", "--version"]
    for command, comment in commands:
        argv = shlex.split(command)[1:]
        argv = [_SMALLER.get(argv[i - 1], a) if i else a for i, a in enumerate(argv)]
        if argv[0] in ("run", "ensemble"):
            argv.append("--no-progress")
        assert cli.main(argv) == 0, command
        if argv[0] == "init":  # the example study, small enough for a test
            path = tmp_path / argv[1]
            text = re.sub(r"(?m)^n_steps = \d+", "n_steps = 12", path.read_text())
            path.write_text(re.sub(r"(?m)^n_configs = \d+", "n_configs = 300", text))
        written = re.search(r"(\S+)/\{([^}]*)\}", comment)
        if written:  # the files the comment names
            folder, names = written.groups()
            for name in names.split(","):
                assert (tmp_path / folder / name.strip()).is_file(), (command, name)
        if "--resume" in argv:  # the checkpoint named is where the run keeps it (gone once finished)
            checkpoint = re.search(r"from (\S+\.npz)", comment).group(1)
            assert (tmp_path / checkpoint).parent.is_dir() and not (tmp_path / checkpoint).exists()
    assert "(JAX " in capsys.readouterr().out
    assert (tmp_path / "ensemble-output" / "results.nc").is_file()  # "same outputs"


def test_study_file_as_written_and_its_promises(tmp_path, monkeypatch, capsys):
    xr = pytest.importorskip("xarray")
    monkeypatch.chdir(tmp_path)
    (study,) = _blocks("toml")
    config = tomllib.loads(study)
    text = study.replace("n_steps = 50", "n_steps = 6").replace("n_configs = 5000", "n_configs = 200")
    (tmp_path / "study.toml").write_text(text)
    assert cli.main(["run", "study.toml", "--no-progress", "--no-plot"]) == 0
    out = tmp_path / config["study"]["out"]
    ds = xr.open_dataset(out / "results.nc", engine="h5netcdf")
    grid = config["grid"]
    assert ds.attrs["scanned"] == ",".join(grid)
    assert ds.mean_work.dims == (*grid, "collision")
    for name, values in grid.items():
        np.testing.assert_array_equal(ds[name].values, values)
    np.testing.assert_array_equal(ds.alpha.values, config["run"]["alphas"])
    resolved = (out / "config.resolved.toml").read_text()
    assert "jaxthermo" in resolved and "JAX" in resolved and "NumPy" in resolved  # the versions
    ds.close()
    readme = README.read_text()

    # a grid over n_steps: NaN past each point's N, as the README selects it
    (tmp_path / "steps.toml").write_text(
        '[study]\nstudy = "sweep"\nout = "steps"\n[run]\nn_configs = 64\n[grid]\nn_steps = [2, 4]\n'
    )
    assert cli.main(["run", "steps.toml", "--no-progress", "--no-plot"]) == 0
    ds = xr.open_dataset(tmp_path / "steps" / "results.nc", engine="h5netcdf")
    selection = re.search(r"`ds\.(mean_work\.sel\(n_steps=2\)\.dropna\(\"collision\"\))`", readme).group(1)
    assert eval(f"ds.{selection}", {"ds": ds}).sizes["collision"] == 2
    ds.close()

    # the error message quoted for a bad value
    quoted = re.search(r"e\.g\.\n?`(\[model\] kind = 'pressure': [^`]*)`", readme).group(1)
    (tmp_path / "bad.toml").write_text('[model]\nkind = "pressure"\n')
    capsys.readouterr()
    assert cli.main(["run", "bad.toml"]) == 2
    assert quoted in capsys.readouterr().err
