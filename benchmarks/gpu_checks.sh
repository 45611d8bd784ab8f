#!/bin/bash
# The GPU checks of a lent device in one command (at most 565 s; run with timeout_s 580): the ensemble benchmark
# (bench_ensemble_gpu.py: its GPU = CPU comparison, the default qubit rows and the tile kernel's variants), the
# default call timed with the fastest variant written in as the default (promote_gpu_variant.py), the tests that
# failed on the H200 on 2026-12-04 with their tracebacks (the tile kernel's own tests run in CI, in Pallas's
# interpreter), then whether XLA passes the register limit on. Everything lands in $OUT
# (default ./gpu_checks_out). Run from the repository root:  bash benchmarks/gpu_checks.sh
OUT=${OUT:-gpu_checks_out}
mkdir -p "$OUT"
BUDGET=565  # seconds for the whole command (the run's timeout_s 580): each step gets what is left after the next ones' share
left() { local s=$((BUDGET - SECONDS - $1)); echo $((s > 20 ? s : 20)); }
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
date -u
nvidia-smi --query-gpu=name,driver_version,clocks.sm,memory.total --format=csv,noheader
python3 -c "import sys, jax; print(sys.version.split()[0], jax.__version__, jax.devices())"
# the default qubit rows re-timed (float64 counts by comparison since 2026-12-04) beside the tile kernel's variants
# counted without a GPU (benchmarks/RESULTS_ensemble.md, session 32): registers per thread limited to 128 or 168
# (16 or 12 warps per SM instead of 8; ptxas spills some), the loop software-pipelined, tiles of 64
# configurations (2 per thread), erf⁻¹'s tails for every draw
# (RESULTS_ensemble.md, session 34: FLOAT32_TRANSFORM, float32 draws from the float64 uniforms without float64
# arithmetic, the float32 default since session 35, as on CPU; sampling.FLOAT32_TRANSFORM=0 is the float32 program timed
# on 2026-12-04, for the ratio; the two BRANCH_TAILS=0 groups that the issue model ranked last were dropped)
# (session 36: SUMS_FIRST, every row's first tile sum before the second ones, the float32 default since; the group
# tile.SUMS_FIRST=float64 times float32 in the row order before it, for the ratio, and float64 in the new one;
# tile.TILE=64,tile.REGISTER_LIMIT=168, the issue model's last float32 group with a limit, gave way)
# (session 47: SUBTRACTION_KEPT, D_1's terms in the one-logarithm form in the kernel, the default since;
# tile.SUBTRACTION_KEPT=0 times the series form of main between sessions 43 and 47, model ×0.62 in float32;
# tile.PIPELINE=1,tile.REGISTER_LIMIT=168 gave way)
VARIANTS="tile.TILE=64,tile.REGISTER_LIMIT=128|tile.REGISTER_LIMIT=128|tile.PIPELINE=1|tile.TILE=64"
VARIANTS="$VARIANTS|tile.REGISTER_LIMIT=168|tile.SUBTRACTION_KEPT=0|tile.SUMS_FIRST=float64"
VARIANTS="$VARIANTS|tile.PIPELINE=1,tile.REGISTER_LIMIT=128|sampling.FLOAT32_TRANSFORM=0"
ROWS="qubit float32, default;qubit float64, default;special alphas=();qubit float32, special tile."
ROWS="$ROWS;qubit float32, special sampling."
ROWS="$ROWS;qubit float64, special tile.REGISTER_LIMIT=168;qubit float64, special tile.PIPELINE=1"
ROWS="$ROWS;qubit float64, special tile.TILE=64;qubit float64, special tile.SUMS_FIRST=float64"
# the SM clock, power and utilisation every 0.5 s while the benchmark runs: the rates' cycle arithmetic assumed
# nvidia-smi's idle reading (1980 MHz); whether the kernel runs at it under load, and whether ncu is there to ask
# the hardware where its cycles go (its stall reasons)
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.max.sm,power.draw,utilization.gpu,temperature.gpu \
  --format=csv,noheader,nounits -lms 500 > "$OUT/clocks.csv" 2>&1 &
SMI=$!
echo "profilers: $(command -v ncu nsys | tr '\n' ' ')"
timeout "$(left 180)" python3 benchmarks/bench_ensemble_gpu.py --out "$OUT" --settings "$VARIANTS" --rows "$ROWS" > "$OUT/bench.log" 2>&1
echo "bench rc $?"
kill $SMI 2>/dev/null
python3 - "$OUT/clocks.csv" <<'EOF_CLOCKS'
import sys
rows = [r.split(", ") for r in open(sys.argv[1]) if r.count(",") == 5]
busy = sorted(float(r[1]) for r in rows if r[4].strip().isdigit() and int(r[4]) >= 90)
power = sorted(float(r[3]) for r in rows if r[4].strip().isdigit() and int(r[4]) >= 90 and r[3].strip() not in ("", "[N/A]"))
if busy:
    q = lambda v, f: v[min(len(v) - 1, int(f * len(v)))]
    print(f"SM clock at >= 90 % utilisation ({len(busy)} samples): min {busy[0]:.0f}, median {q(busy, 0.5):.0f}, "
          f"max {busy[-1]:.0f} MHz; power median {q(power, 0.5) if power else float('nan'):.0f} W, max {power[-1] if power else float('nan'):.0f} W")
else:
    print(f"no busy clock samples ({len(rows)} rows)")
EOF_CLOCKS
grep -A 30 "^summary" "$OUT/bench.log" || grep -E "^\[qubit" "$OUT/bench.log" | cut -c1-300
# the fastest float32 variant (≥ 1.03× the default, the same mean W_N) written into a copy of the source as the
# default and its default call timed in a fresh process (item 4 asks for default arguments): $OUT/promoted/,
# variant.diff for `git apply` (benchmarks/promote_gpu_variant.py)
timeout "$(left 90)" python3 benchmarks/promote_gpu_variant.py "$OUT" > "$OUT/promote.log" 2>&1
echo "promote rc $?"
grep -E "^promote" "$OUT/promote.log"
grep -A 3 "^summary" "$OUT/promote.log"
grep -E "^\[(ceilings|gpu_equals_cpu|profile)\]" "$OUT/bench.log" | cut -c1-900
# the tests that failed on the H200 on 2026-12-04: four with a classical α = ½ or 2 through the compiled tile
# kernel (a float32 |α| in its float64 module, fixed since), a bitwise resume, and three changed since (the
# host's memory, CPU devices named); and, not yet run on a GPU, a sweep with one ρ0 per grid point through the tile
# kernel (no wrt) and through XLA's program with ρ0 moving under wrt (session 40)
export XLA_PYTHON_CLIENT_PREALLOCATE=false
timeout "$(left 25)" python3 -m pytest -p no:cacheprovider -q --tb=short -n 8 \
  "tests/ensemble/test_full_swap.py::test_nearly_full_swap_closed_form" \
  "tests/ensemble/test_fused_rare_population.py::test_cold_tau_divergences_and_mean_state" \
  "tests/ensemble/test_extremes_h39.py::test_ensemble_and_reference_give_the_finite_divergence" \
  "tests/ensemble/test_infinite_values_h35.py::test_engine_padding_configuration_never_enters_exp_minus_beta_work" \
  "tests/ensemble/test_files.py::test_killed_run_leaves_a_valid_checkpoint_and_a_free_lock" \
  "tests/ensemble/test_run_memory.py::test_run_that_cannot_fit_is_refused_naming_n_steps" \
  "tests/ensemble/test_accelerator_reductions.py::test_engine_gpu_program_equals_cpu_program" \
  "tests/ensemble/test_initial_state_function.py::test_sweep_over_beta_without_wrt_equals_each_points_run" \
  "tests/ensemble/test_initial_state_function.py::test_sweep_over_beta_is_one_run_with_one_checkpoint_and_resumes" \
  > "$OUT/extremes.log" 2>&1
echo "extremes rc $?"
grep -E "^E |Error|passed|failed" "$OUT/extremes.log" | head -60
# whether XLA's Triton passes the register limit to ptxas (.maxnreg in the PTX of a kernel lowered under it)
XLA_FLAGS=--xla_dump_to=/tmp/maxnreg_dump timeout "$(left 0)" python3 - <<'EOF' > "$OUT/maxnreg.log" 2>&1
import jax.numpy as jnp
import jaxthermo as jt
from jaxthermo.ensemble import _tile_kernel
_tile_kernel.REGISTER_LIMIT = 128
model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, distribution=jt.Gaussian(0.05))
jt.ensemble(model, jnp.eye(2, dtype=jnp.complex64) / 2, 10, 256)
EOF
echo "maxnreg check rc $?: $(grep -rhoE '\.maxnreg [0-9]+' /tmp/maxnreg_dump | sort | uniq -c | tr '\n' ' ')"
rm -rf /tmp/maxnreg_dump
date -u
