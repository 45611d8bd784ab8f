"""`jaxthermo run` on two jax.distributed processes (CPU, coordinator on localhost): process 0 writes what
one process writes, the others write nothing; the options' and the cluster's errors are one line."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from jaxthermo.apps import cli

from .helpers import ROOT, free_port, processes_together

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")

STUDY = '[study]\nstudy = "ensemble"\nout = "unused"\nseed = 3\n[model]\ntheta = 0.3\n'
RUN = "[run]\nn_steps = 6\nn_configs = 300\nchunk_size = 64\n"
# the variables of a cluster (JAX's auto-detection reads them): none in the tests' processes
CLUSTER = ("SLURM_", "OMPI_", "PMI_", "PMIX_", "MPI_", "TPU_", "CLOUD_TPU", "MEGASCALE_")


def _study(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(STUDY + RUN)
    return str(path)


def _two(config, outs, *extra, timeout=240):
    port = free_port()
    trio = ["--coordinator", f"localhost:{port}", "--num-processes", "2"]
    argvs = [
        ["-m", "jaxthermo", "run", config, *trio, "--process-id", str(i), "--out", str(outs[i]), "--no-plot", *extra]
        for i in range(2)
    ]
    return processes_together(argvs, timeout=timeout)


def _alone(argv, timeout=120):
    """``python -m jaxthermo argv`` with no cluster in its environment: (exit code, stdout, stderr, seconds)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLUSTER) and k not in ("XLA_FLAGS",)}
    env.update(PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "jaxthermo", *argv], env=env, capture_output=True, text=True, timeout=timeout
    )
    return proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    """results.nc of STUDY + RUN by one process (the independent route: this process's 4 CPU devices)."""
    tmp = tmp_path_factory.mktemp("one")
    assert cli.main(["run", _study(tmp), "--out", str(tmp / "out"), "--no-plot", "--no-progress"]) == 0
    return tmp / "out" / "results.nc"


def _same_results(path, reference, chunks_resumed=0):
    with (
        xr.open_dataset(path, engine="h5netcdf") as two,
        xr.open_dataset(reference, engine="h5netcdf") as one,
    ):
        assert set(two.data_vars) == set(one.data_vars) and len(one.data_vars) > 10
        for name in one.data_vars:
            a, b = two[name].values, one[name].values
            if np.issubdtype(b.dtype, np.floating):  # other merge order: rounding of O(1) terms (a divergence
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=name)  # of 1e-4 differs by 4e-16)
            else:  # the histograms' counts
                np.testing.assert_array_equal(a, b, err_msg=name)
        assert two.attrs["n_configs"] == one.attrs["n_configs"] == 300
        assert (two.attrs["n_processes"], two.attrs["n_devices"], two.attrs["chunks_resumed"]) == (2, 2, chunks_resumed)


def _only_process_zero_wrote(tmp_path, outs, outputs):
    assert "wrote" in outputs[0][0] and "wrote" not in outputs[1][0]
    assert not any("[Gloo]" in out for out, _ in outputs)  # the collectives' connection lines are dropped
    assert "process 1 of 2: computing its share; process 0 writes the results" in outputs[1][0]
    assert not (tmp_path / "host1").exists()  # process 1 neither needs nor creates an output folder
    assert sorted(p.name for p in outs[0].iterdir() if not p.name.endswith(".lock")) == [
        "config.resolved.toml",
        "results.nc",
    ]


@pytest.mark.slow  # two processes that import and compile: ~15 s on 2 cores
def test_two_processes_write_the_results_of_one_process_and_only_process_zero_writes(tmp_path, one_process):
    outs = [tmp_path / "p0", tmp_path / "host1" / "p1"]
    codes, outputs = _two(_study(tmp_path), outs, "--no-progress")
    assert codes == [0, 0], [err[-2000:] for _, err in outputs]
    _only_process_zero_wrote(tmp_path, outs, outputs)
    _same_results(outs[0] / "results.nc", one_process)


@pytest.mark.slow
def test_two_processes_resume_the_checkpoint_of_process_zero(tmp_path, one_process, monkeypatch):
    """A run stopped after 2 of its 5 chunks, then resumed by two processes: process 0's pre-checks pass (its
    checkpoint is there, so no "--resume: no checkpoint"), its checkpoint is sent to process 1 (which has no
    folder), the 3 chunks left are computed and the results are those of an uninterrupted run."""
    import jaxthermo as jt

    config, outs = _study(tmp_path), [tmp_path / "p0", tmp_path / "host1" / "p1"]
    engine = jt.ensemble

    def stops_after_chunk_1(*args, callback=None, **kw):
        def check(chunk, done):
            callback(chunk, done)
            if chunk == 1:
                raise KeyboardInterrupt

        return engine(*args, callback=check, **kw)

    monkeypatch.setattr(jt, "ensemble", stops_after_chunk_1)
    assert cli.main(["run", config, "--out", str(outs[0]), "--no-plot", "--no-progress"]) == 130
    monkeypatch.undo()
    with np.load(outs[0] / "checkpoint.npz") as z:
        assert int(z["configs_done"]) == 128
    codes, outputs = _two(config, outs, "--no-progress", "--resume")
    assert codes == [0, 0], [err[-2000:] for _, err in outputs]
    assert "--resume: no " not in outputs[0][0] + outputs[1][0]  # nothing said about a missing checkpoint
    _only_process_zero_wrote(tmp_path, outs, outputs)
    _same_results(outs[0] / "results.nc", one_process, chunks_resumed=2)


@pytest.mark.slow
def test_a_refusal_of_process_zero_stops_every_process_before_computing(tmp_path):
    """Process 0's output folder is a file: it refuses before computing, and process 1, which has nothing to
    refuse, hears so at once (it used to wait in the first collective until JAX aborted it, ~30 s later with a
    stack trace and another exit status)."""
    config = _study(tmp_path)
    blocked = tmp_path / "p0"
    blocked.write_text("a file")
    start = time.perf_counter()
    codes, outputs = _two(config, [blocked, tmp_path / "p1"], "--no-progress", timeout=120)
    assert time.perf_counter() - start < 100
    assert codes == [2, 2], [err[-2000:] for _, err in outputs]
    assert "is a file" in outputs[0][1] and "Traceback" not in outputs[0][1]
    assert "process 0 of this jax.distributed run refused it" in outputs[1][1], outputs[1][1][-2000:]
    assert "computing its share" not in outputs[1][0]  # said before the refusal, it was untrue: nothing ran
    assert blocked.read_text() == "a file" and not (tmp_path / "p1").exists()


@pytest.mark.parametrize(
    "options, named",
    [
        (["--coordinator", "localhost:1234", "--num-processes", "2"], "--process-id"),
        (["--coordinator", "localhost:1234", "--process-id", "0"], "--num-processes"),
        (["--num-processes", "2", "--process-id", "0"], "--coordinator"),
        (["--coordinator", "localhost", "--num-processes", "2", "--process-id", "0"], "--coordinator"),
        (["--coordinator", "localhost:99999", "--num-processes", "2", "--process-id", "0"], "port 99999 is outside"),
        (["--coordinator", "localhost:1234", "--num-processes", "2", "--process-id", "2"], "--process-id 2"),
        (["--coordinator", "localhost:1234", "--num-processes", "0", "--process-id", "0"], "--num-processes"),
        (["--init-timeout", "5"], "--init-timeout"),
    ],
)
@pytest.mark.parametrize("command", ["run", "ensemble"])
def test_partial_or_bad_process_options_are_refused_naming_the_option(tmp_path, capsys, options, named, command):
    argv = ["run", _study(tmp_path)] if command == "run" else ["ensemble", "--out", str(tmp_path / "e")]
    with pytest.raises(SystemExit) as stop:
        cli.main(argv + options)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and f"jaxthermo {command}: error:" in err and named in err, err


def test_distributed_outside_a_cluster_says_to_give_the_three_options(tmp_path):
    code, out, err, seconds = _alone(["run", _study(tmp_path), "--distributed", "--out", str(tmp_path / "o")])
    assert code == 2, err[-2000:]
    assert "JAX detected no cluster" in err and "--coordinator HOST:PORT --num-processes N --process-id I" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and seconds < 60
    assert not (tmp_path / "o").exists()


def test_an_unreachable_coordinator_is_one_line_after_the_init_timeout(tmp_path):
    """Process 1 of 2 with no process 0: JAX would retry for 300 s and then abort with a stack trace."""
    argv = ["run", _study(tmp_path), "--coordinator", f"localhost:{free_port()}", "--num-processes", "2"]
    code, out, err, seconds = _alone(argv + ["--process-id", "1", "--init-timeout", "2", "--out", str(tmp_path / "o")])
    assert code == 1, err[-2000:]
    assert "did not start within 2 s" in err and "--init-timeout" in err and "Traceback" not in err
    assert seconds < 60 and not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "example, study", [("coherent_lambda", "coherent_scan"), ("assignment_regimes", "assignment_scan")]
)
@pytest.mark.parametrize("option", ["--coordinator", "--distributed"])
def test_scans_are_refused_before_waiting_for_the_other_processes(tmp_path, example, study, option):
    """The model B and C scans run on one process. Process 0 of 2 with a scan waited for process 1 (300 s by
    default, then exit 1 "the coordinator is unreachable"), since the study was checked only after
    jax.distributed started: it is refused at once (status 2, well within the 30 s --init-timeout given here),
    naming the option given (it named --distributed after --coordinator)."""
    trio = ["--coordinator", f"localhost:{free_port()}", "--num-processes", "2", "--process-id", "0"]
    argv = ["run", str(ROOT / "examples" / f"{example}.toml"), *(trio if option == "--coordinator" else [option])]
    code, out, err, seconds = _alone(argv + ["--init-timeout", "30", "--out", str(tmp_path / "o")])
    assert code == 2, err[-2000:]
    assert f"{option}: [study] study = {study!r} runs on one process" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and seconds < 30
    assert not (tmp_path / "o").exists()


def test_main_called_after_jax_computed_says_so_in_one_line(tmp_path, capsys):
    """cli.main from Python after JAX started its backend: JAX's RuntimeError as one line, status 2."""
    import jax

    jax.devices()  # the backend is started: jax.distributed.initialize refuses before doing anything
    argv = ["run", _study(tmp_path), "--coordinator", f"localhost:{free_port()}", "--num-processes", "1"]
    assert cli.main(argv + ["--process-id", "0", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxthermo run: error: --coordinator: jax.distributed.initialize() must be called before")
    assert not (tmp_path / "o").exists()
