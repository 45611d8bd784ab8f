"""Results as xarray Datasets: named dimensions, coordinates and attributes (docs/ensemble.md).

xarray is optional (``pip install "jaxthermo[io]"``) and imported inside the functions only.

Layout of :func:`result_to_xarray` (one :class:`EnsembleResult`):

* dims ``collision`` (r = 1…N), ``step`` (r = 0…N), ``alpha`` (the orders of D_α), ``row``/``col``
  (matrix indices of the d×d states, |0⟩ = ground state), ``bin``/``edge`` of the W_N histogram and
  ``collision_bin``/``collision_edge`` of the single-collision W histogram;
* every per-collision mean ``mean_X`` and variance ``var_X`` with dims (collision,) (the entropy flow's mean and
  variance, the entropy production's means where the run evaluated D_1), the divergences (step, alpha), the trace
  distances (step,);
* complex matrices are stored as two real variables, ``X_real`` and ``X_imag``
  (``mean_state_real`` …, dims (step, row, col)), so that every netCDF backend can write them:
  ``ds.mean_state_real + 1j * ds.mean_state_imag`` restores the state;
* a run with ``wrt``: its derivatives ``sensitivity_<name>_<field>`` with the dims of ``<field>``
  (a θ schedule adds ``<name>_entry``: ∂/∂θ_s) and ``delta_sensitivity_<field>`` over
  (collision[, alpha]) (docs/ensemble.md §5);
* every variable carries ``units`` (energy, energy^2, nat, dimensionless, count; a sensitivity
  the field's per the parameter's, e.g. energy/rad for ∂⟨W⟩/∂θ, energy^2 for ∂⟨W⟩/∂β), every coordinate a ``long_name`` and ``units`` (β 1/energy, g0 energy, θ rad; indices,
  orders, N, σ, ``width``, ``delta`` dimensionless);
* attributes: ``n_configs``, ``seed``, ``n_steps``, ``units``, the versions of jaxthermo, JAX and
  NumPy, the run metadata (dtype, chunk size, devices, elapsed time) and, when a model is given,
  its parameters (``model_d``, ``model_beta``, ``model_g0``, ``model_theta``, ``model_kind``,
  ``model_coupling``, ``distribution``, ``distribution_sigma`` …). Attributes are netCDF-safe:
  strings, numbers, 1-d arrays (booleans become 0/1); an array of more dimensions (a coupling's
  matrix) is written flat with ``<name>_shape``, a complex one as ``<name>_real``/``<name>_imag``, and
  :func:`attr_array` restores it.

:func:`sweep_to_xarray` stacks the grid points along one dimension per grid parameter (in grid
order) in front of those dims; a grid over several N pads the per-collision and per-step variables
with NaN past each point's N (:func:`sweep_to_xarray`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

UNITS = (
    "energies (work, heat, energy change) in the units of g0 (ħ = k_B = 1); beta in 1/(units of g0); "
    "divergences and entropies in nats; heat is heat into the system (given up by the reservoir qudit), work is work "
    "done on system + reservoir qudit by switching the collision on and off (docs/conventions.md §8)"
)

_PER_COLLISION = ("work", "heat", "energy_change", "cumulative_work", "cumulative_heat", "cumulative_energy_change")
# entropies per collision, in nats (the production's mean only; absent from a result without D_1)
_ENTROPY = ("mean_entropy_flow", "var_entropy_flow", "mean_entropy_production", "mean_cumulative_entropy_production")
# ΔS_1 + … + ΔS_N of each configuration: its mean and variance, scalars per run (absent from older results)
_TOTAL_ENTROPY = ("mean_total_entropy_production", "var_total_entropy_production")


def _require_xarray():
    try:
        import xarray
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError('to_xarray needs xarray (and a netCDF backend to save): pip install "jaxthermo[io]"') from err
    return xarray


def versions() -> dict:
    """Versions of jaxthermo, JAX and NumPy, for the attributes of saved results."""
    import sys

    import jax

    version = getattr(sys.modules.get("jaxthermo"), "__version__", "unknown")  # no upward import
    return {"jaxthermo_version": version, "jax_version": jax.__version__, "numpy_version": np.__version__}


def _attr_items(key: str, value) -> dict:
    """``{key: value}`` as netCDF-safe attributes (strings, numbers, 1-d arrays; booleans as 0/1), or {}
    for None. An array of more than one dimension (a user coupling's Hamiltonian matrix) is written flat
    with its shape in ``<key>_shape``, a complex one as ``<key>_real`` and ``<key>_imag``: flattened
    alone, its shape was lost, and a complex matrix was written as its string. :func:`attr_array` reads
    them back."""
    if value is None:
        return {}
    if isinstance(value, (bool, np.bool_)):
        return {key: int(value)}
    if isinstance(value, (int, float, str, np.integer, np.floating)):
        return {key: value}
    arr = np.asarray(value)
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int8)
    if arr.dtype.kind not in "iufc":
        return {key: str(value)}
    out = {}
    if arr.ndim > 1:
        out[f"{key}_shape"] = np.asarray(arr.shape, np.int64)
    flat = arr.item() if arr.ndim == 0 else arr.ravel()
    if arr.dtype.kind == "c":
        out[f"{key}_real"], out[f"{key}_imag"] = np.real(flat), np.imag(flat)
    else:
        out[key] = flat
    return out


def attr_array(attrs, key: str) -> np.ndarray:
    """An array of a result's netCDF attributes (``to_xarray``) with its shape and dtype: a coupling's matrix
    written flat with ``<name>_shape``, a complex one as ``<name>_real``/``<name>_imag``.

    ``attrs``: a Dataset's ``.attrs``, also after a netCDF round trip; ``key``: the attribute's name, e.g.
    ``"model_coupling_h"``; the value returned is ``<key>_real + 1j <key>_imag`` reshaped to ``<key>_shape``."""
    if f"{key}_real" in attrs and key not in attrs:
        value = np.asarray(attrs[f"{key}_real"]) + 1j * np.asarray(attrs[f"{key}_imag"])
    elif key in attrs:
        value = np.asarray(attrs[key])
    else:
        raise KeyError(f"key: no attribute {key!r} (nor {key}_real/{key}_imag)")
    shape = attrs.get(f"{key}_shape")
    return value.reshape(tuple(int(n) for n in np.atleast_1d(shape))) if shape is not None else value


def check_model_describes(model, result, scanned=()) -> None:
    """``model`` given to ``to_xarray`` describes ``result`` (an :class:`~jaxthermo.EnsembleResult`, a sweep's
    longest point) as far as the result can tell, else an error naming ``model``: its attributes were written
    as given (a d = 3 Uniform model on a run of qubits with a Gaussian law gave ``model_d = 3`` and
    ``distribution = 'Uniform'`` beside 2×2 states and a ``sigma`` coordinate). Checked: the model kind, d
    against the states, a θ schedule's length against N, a sweep's ``scanned`` names among the model's or its
    law's fields, and (one run) the averaged reservoir state τ̄ of the model's β, g0, kind and law."""
    from ..inhomogeneous import InhomogeneousReservoir, averaged_reservoir_state

    if model is None:
        return
    if not isinstance(model, InhomogeneousReservoir):
        raise TypeError(f"model: the jt.InhomogeneousReservoir the result was run with; got {type(model).__name__}")
    d = np.shape(result.mean_state)[-1]
    if model.d != d:
        raise ValueError(f"model: d={model.d}, but the result's states are {d}×{d}")
    if np.ndim(model.theta) == 1 and not scanned and np.shape(model.theta)[0] != int(result.n_steps):
        raise ValueError(
            f"model: a θ schedule of {np.shape(model.theta)[0]} collisions for a run of N = {result.n_steps}"
        )
    law = model.distribution
    fields = {f.name for f in dataclasses.fields(law)} if dataclasses.is_dataclass(law) else set()
    for name in scanned:
        if name not in ("beta", "g0", "theta", "n_steps") and name not in fields:
            raise ValueError(f"model: the sweep scans {name!r}, not a field of the model's law {type(law).__name__}")
    if scanned or law is None:
        return
    want = np.asarray(result.averaged_reservoir_state)
    got = np.asarray(averaged_reservoir_state(model, law))
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-6):
        raise ValueError(
            "model: its averaged reservoir state τ̄ (of its β, g0, kind and law) differs from the result's: not the "
            "model the result was run with"
        )


def model_attrs(model) -> dict:
    """Parameters of a model-A model as netCDF-safe attributes (``model_*``, ``distribution*``; an array
    of more than one dimension or a complex one as :func:`_attr_items` writes it)."""
    if model is None:
        return {}
    out = {"model": type(model).__name__}
    for f in dataclasses.fields(model):
        value = getattr(model, f.name)
        if f.name == "distribution":
            if value is None:
                continue
            out["distribution"] = type(value).__name__
            for g in dataclasses.fields(value):
                out.update(_attr_items(f"distribution_{g.name}", getattr(value, g.name)))
        elif f.name == "coupling":
            out["model_coupling"] = type(value).__name__
            if dataclasses.is_dataclass(value):
                for g in dataclasses.fields(value):
                    out.update(_attr_items(f"model_coupling_{g.name}", getattr(value, g.name)))
        else:
            out.update(_attr_items(f"model_{f.name}", value))
    return out


def _info_attrs(info: dict) -> dict:
    out = {}
    for k, v in info.items():
        if k not in ("rho0", "alphas"):
            out.update(_attr_items(k, v))
    return out


def _variables(result, xr_dims_prefix=()):
    """{name: (dims, array)} of one result; ``xr_dims_prefix`` is prepended to every dims tuple."""
    p = tuple(xr_dims_prefix)
    out = {}
    for name in _PER_COLLISION:
        for stat in ("mean", "var"):
            key = f"{stat}_{name}"
            if hasattr(result, key):
                out[key] = (p + ("collision",), np.asarray(getattr(result, key)))
    for key in _ENTROPY:
        if getattr(result, key, None) is not None:
            out[key] = (p + ("collision",), np.asarray(getattr(result, key)))
    for key in ("mean_divergence", "var_divergence", "mean_state_divergence"):
        out[key] = (p + ("step", "alpha"), np.asarray(getattr(result, key)))
    for key in ("mean_state_trace_distance", "mean_state_thermal_trace_distance"):
        out[key] = (p + ("step",), np.asarray(getattr(result, key)))
    for key in ("work_cumulants", "heat_cumulants"):  # k2, k3, k4 of W_N and Q_N
        out[key] = (p + ("cumulant",), np.asarray(getattr(result, key)))
    for key in ("mean_exp_minus_beta_work", "stderr_exp_minus_beta_work"):
        out[key] = (p, np.asarray(getattr(result, key)))
    for key in _TOTAL_ENTROPY:
        if getattr(result, key, None) is not None:
            out[key] = (p, np.asarray(getattr(result, key)))
    for key, dims in (("mean_state", ("step", "row", "col")), ("averaged_reservoir_state", ("row", "col"))):
        arr = np.asarray(getattr(result, key))
        out[f"{key}_real"] = (p + dims, np.ascontiguousarray(arr.real))
        out[f"{key}_imag"] = (p + dims, np.ascontiguousarray(arr.imag))
    for key, (bdim, edim) in (
        ("work_histogram", ("bin", "edge")),
        ("collision_work_histogram", ("collision_bin", "collision_edge")),
    ):
        h = getattr(result, key)
        out[f"{key}_counts"] = (p + (bdim,), np.asarray(h.counts, np.int64))
        out[f"{key}_edges"] = (p + (edim,), np.asarray(h.edges))
        out[f"{key}_underflow"] = (p, np.asarray(h.underflow, np.int64))
        out[f"{key}_overflow"] = (p, np.asarray(h.overflow, np.int64))
    out.update(_sensitivity_variables(result, out, p))
    return out


def _sensitivity_variables(result, plain, p):
    """The derivatives of a run with ``wrt`` (docs/ensemble.md §5): ``sensitivity_<name>_<field>``
    with the dims of ``<field>`` (a parameter with several entries, a θ schedule, adds the dim
    ``<name>_entry``; a complex ``mean_state`` is split into ``_real``/``_imag`` as above), and
    ``delta_sensitivity_<field>`` with dims (collision,) or (collision, alpha): ∂W_N/∂δ_r and
    ∂F_α(ρ_{S|N})/∂δ_r by r."""
    out = {}
    for name, sens in (getattr(result, "sensitivity", None) or {}).items():
        for f in dataclasses.fields(sens):
            value = getattr(sens, f.name)
            if not isinstance(value, np.ndarray):
                continue
            parts = {"": value} if value.dtype.kind != "c" else {"_real": value.real, "_imag": value.imag}
            for suffix, arr in parts.items():
                dims = plain[f.name + suffix][0][len(p) :]
                if arr.ndim > len(dims):
                    dims = dims + (f"{name}_entry",)
                out[f"sensitivity_{name}_{f.name}{suffix}"] = (p + dims, arr.copy(order="C"))  # 0-d kept 0-d
    delta = getattr(result, "delta_sensitivity", None)
    if delta is not None:
        for field, value in zip(delta._fields, delta):
            arr = np.asarray(value)
            out[f"delta_sensitivity_{field}"] = (p + ("collision", "alpha")[: arr.ndim], arr)
    return out


_DESCRIPTIONS = {
    "mean_work": "mean work W_r done on system + reservoir qudit in collision r (ΔU_r = W_r + Q_r)",
    "mean_heat": "mean heat Q_r into the system in collision r",
    "mean_energy_change": "mean system energy change ΔU_r in collision r",
    "mean_cumulative_work": "mean accumulated work W_1 + … + W_r",
    "mean_cumulative_heat": "mean accumulated heat Q_1 + … + Q_r",
    "mean_cumulative_energy_change": "mean accumulated energy change",
    "mean_entropy_flow": "mean entropy flow β_r Q_r into the system with the heat of collision r",
    "mean_entropy_production": "mean entropy production ΔS_r = ΔS(ρ_S) − β_r Q_r ≥ 0 of collision r",
    "mean_cumulative_entropy_production": "mean accumulated entropy production ΔS_1 + … + ΔS_r",
    "mean_total_entropy_production": "mean total entropy production ΔS_1 + … + ΔS_N over configurations",
    "mean_divergence": "frozen-configuration average of D_α(ρ_{S|r} ‖ τ_S)",
    "mean_state_divergence": "D_α(ρ̄_r ‖ τ_S) of the mean state",
    "mean_state_trace_distance": "trace distance D(ρ̄_r, τ̄) to the averaged reservoir state",
    "mean_state_thermal_trace_distance": "trace distance D(ρ̄_r, τ_S) to the system thermal state",
    "work_cumulants": "k-statistics k2, k3, k4 (unbiased cumulant estimators) of the total work W_N",
    "heat_cumulants": "k-statistics k2, k3, k4 (unbiased cumulant estimators) of the total heat Q_N",
    "mean_exp_minus_beta_work": "⟨exp(−β W_N)⟩ over configurations of the total work W_N (β of the unperturbed reservoir)",
    "stderr_exp_minus_beta_work": "standard error of ⟨exp(−β W_N)⟩",
    "averaged_reservoir_state_real": "real part of the averaged reservoir state τ̄ = ∫ G(δ) τ_R(δ) dδ",
    "averaged_reservoir_state_imag": "imaginary part of the averaged reservoir state τ̄",
    "work_histogram_counts": "configurations per bin of the total work W_N",
    "work_histogram_edges": "bin edges of the W_N histogram",
    "work_histogram_underflow": "configurations with W_N below the first edge",
    "work_histogram_overflow": "configurations with W_N at or above the last edge, or NaN",
    "collision_work_histogram_counts": "collisions per bin of the single-collision work W_r (all r, all configurations)",
    "collision_work_histogram_edges": "bin edges of the single-collision W_r histogram",
    "collision_work_histogram_underflow": "collisions with W_r below the first edge",
    "collision_work_histogram_overflow": "collisions with W_r at or above the last edge, or NaN",
    "mean_state_real": "real part of the mean system state ρ̄_r",
    "mean_state_imag": "imaginary part of the mean system state ρ̄_r",
}


def _sensitivity_descriptions(result) -> dict:
    """Long names of the variables of :func:`_sensitivity_variables`."""
    out = {}
    se = "; standard error of the mean: √(var/n_configs)"
    for name, sens in (getattr(result, "sensitivity", None) or {}).items():
        for f in dataclasses.fields(sens):
            stat, _, field = f.name.partition("_")
            if stat in ("mean", "var") and isinstance(getattr(sens, f.name), np.ndarray):
                plain = _DESCRIPTIONS.get(f"mean_{field}", "mean system state ρ̄_r" if field == "state" else field)
                text = (
                    f"∂/∂{name} of {f.name}: {plain}"
                    if stat == "mean"
                    else f"variance over configurations of the per-configuration ∂/∂{name} of {field}{se}"
                )
                for suffix in ("", "_real", "_imag"):
                    out[f"sensitivity_{name}_{f.name}{suffix}"] = text + {
                        "_real": " (real part)",
                        "_imag": " (imaginary part)",
                    }.get(suffix, "")
    for field in ("mean_work", "var_work", "mean_free_energy", "var_free_energy"):
        stat, what = field.split("_", 1)
        quantity = "W_N" if what == "work" else "F_α(ρ_{S|N} ‖ τ_S)"
        out[f"delta_sensitivity_{field}"] = (
            f"mean over configurations of ∂{quantity}/∂δ_r"
            if stat == "mean"
            else f"variance over configurations of ∂{quantity}/∂δ_r{se}"
        )
    out["delta_sensitivity_n_configs"] = "configurations the δ gradients are averaged over"
    return out


# units of the parameters ``wrt`` takes (ħ = k_B = 1; θ = g_int t_int); the laws' spreads are dimensionless
_PARAMETER_UNITS = {"theta": "rad", "beta": "1/energy", "g0": "energy", "g_int": "energy"}
_SPREADS = ("sigma", "width", "delta")


def _unit_powers(unit: str) -> dict:
    """``"energy^2/rad"`` as {"energy": 2, "rad": -1} (``"dimensionless"``: {})."""
    out: dict = {}
    if unit == "dimensionless":
        return out
    num, _, den = unit.partition("/")
    for part, sign in ((num, 1), (den, -1)):
        for token in part.replace("(", " ").replace(")", " ").split():
            if token != "1":
                base, _, k = token.partition("^")
                out[base] = out.get(base, 0) + sign * int(k or 1)
    return {b: k for b, k in out.items() if k}


def _unit_text(powers: dict) -> str:
    def term(base, k):
        return base if k == 1 else f"{base}^{k}"

    num = [term(b, k) for b, k in powers.items() if k > 0]
    den = [term(b, -k) for b, k in powers.items() if k < 0]
    if not num and not den:
        return "dimensionless"
    text = " ".join(num) or "1"
    return text + (("/" + den[0] if len(den) == 1 else "/(" + " ".join(den) + ")") if den else "")


def derivative_units(unit: str, name: str, power: int = 1) -> str:
    """Units of ∂X/∂``name`` (``power`` 2: of its variance) for X in ``unit``; a parameter of unknown unit (a
    user coupling's field) is said in words."""
    if name in _SPREADS or name == "deltas":
        return unit
    if name not in _PARAMETER_UNITS:
        return f"{unit} per unit of {name}" + ("^2" if power == 2 else "")
    powers = _unit_powers(unit)
    for base, k in _unit_powers(_PARAMETER_UNITS[name]).items():
        powers[base] = powers.get(base, 0) - power * k
    return _unit_text({b: k for b, k in powers.items() if k})


def _sensitivity_units(result) -> dict:
    """``units`` of the variables of :func:`_sensitivity_variables`: the field's unit per the parameter's."""
    out = {}
    for name, sens in (getattr(result, "sensitivity", None) or {}).items():
        for f in dataclasses.fields(sens):
            for suffix in ("", "_real", "_imag"):
                unit = _UNITS.get(f.name + suffix)
                if unit is not None:
                    power = 2 if f.name.startswith("var_") else 1
                    out[f"sensitivity_{name}_{f.name}{suffix}"] = derivative_units(unit, name, power)
    out.update(delta_sensitivity_mean_work="energy", delta_sensitivity_var_work="energy^2")
    out.update(delta_sensitivity_mean_free_energy="energy", delta_sensitivity_var_free_energy="energy^2")
    out["delta_sensitivity_n_configs"] = "count"
    return out


# long names and units of the coordinates (docs/inhomogeneous.md §1: H_S = g0 s_z, g_r = g0(1 + δ_r) or
# β_r = β(1 + δ_r), the partial swap U(θ)); a grid coordinate got its values only, no meaning or unit
_COORD_ATTRS = {
    "collision": {"long_name": "collision r (1…N)", "units": "dimensionless"},
    "step": {"long_name": "collisions done r (0 = the initial state ρ0)", "units": "dimensionless"},
    "cumulant": {"long_name": "order k of the cumulant k-statistic", "units": "dimensionless"},
    "alpha": {"long_name": "Rényi order α of D_α", "units": "dimensionless"},
    "row": {"long_name": "matrix row index (|0⟩ = ground state)", "units": "dimensionless"},
    "col": {"long_name": "matrix column index (|0⟩ = ground state)", "units": "dimensionless"},
    "beta": {"long_name": "inverse temperature β of the reservoir", "units": "1/energy"},
    "g0": {"long_name": "energy gap g0 of H_S = g0 s_z (unperturbed reservoir qudit)", "units": "energy"},
    "theta": {
        "long_name": "collision angle θ (partial swap: U(θ) = cos θ + i sin θ S; exact unitary: interaction time θ/g_int)",
        "units": "rad",
    },
    "sigma": {"long_name": "standard deviation σ of the Gaussian law of δ_r", "units": "dimensionless"},
    "width": {"long_name": "width of the uniform law of δ_r on [−width/2, width/2]", "units": "dimensionless"},
    "delta": {"long_name": "δ of the two-point law of δ_r (±δ)", "units": "dimensionless"},
    "n_steps": {"long_name": "number of collisions N", "units": "dimensionless"},
}


def _label_coords(ds):
    """The long names and units of :data:`_COORD_ATTRS` on the coordinates ``ds`` has."""
    for name, attrs in _COORD_ATTRS.items():
        if name in ds.coords:
            ds[name].attrs.update(attrs)
    return ds


def _coords(result):
    n = result.n_steps
    d = np.asarray(result.mean_state).shape[-1]
    return {
        "collision": ("collision", np.arange(1, n + 1)),
        "step": ("step", np.arange(0, n + 1)),
        "cumulant": ("cumulant", np.arange(2, 5)),
        "alpha": ("alpha", np.asarray(result.alphas, float)),
        "row": ("row", np.arange(d)),
        "col": ("col", np.arange(d)),
    }


def _variable_units() -> dict:
    """``units`` of the result's variables (the Dataset's ``units`` attribute: energies in units of g0,
    divergences in nats); a variable had a long name only, its unit left to that global sentence."""
    out = {}
    for name in _PER_COLLISION:
        out[f"mean_{name}"], out[f"var_{name}"] = "energy", "energy^2"
    out.update(mean_divergence="nat", var_divergence="nat^2", mean_state_divergence="nat")
    out.update({name: "nat^2" if name.startswith("var_") else "nat" for name in _ENTROPY + _TOTAL_ENTROPY})
    out.update(work_cumulants="energy^k (k: cumulant)", heat_cumulants="energy^k (k: cumulant)")
    for name in ("mean_state_trace_distance", "mean_state_thermal_trace_distance", "mean_exp_minus_beta_work"):
        out[name] = "dimensionless"
    out["stderr_exp_minus_beta_work"] = "dimensionless"
    for name in ("mean_state", "averaged_reservoir_state"):
        out[f"{name}_real"] = out[f"{name}_imag"] = "dimensionless"
    for name in ("work_histogram", "collision_work_histogram"):
        out[f"{name}_edges"] = "energy"
        out[f"{name}_counts"] = out[f"{name}_underflow"] = out[f"{name}_overflow"] = "count"
    return out


_UNITS = _variable_units()


def _finish(ds, result, model, attrs):
    _label_coords(ds)
    for name, unit in {**_UNITS, **_sensitivity_units(result)}.items():
        if name in ds:
            ds[name].attrs["units"] = unit
    for name, text in {**_sensitivity_descriptions(result), **_DESCRIPTIONS}.items():
        if name in ds:
            ds[name].attrs["long_name"] = text
        var = "var_" + name[5:] if name.startswith("mean_") else None
        if var in ds:
            ds[var].attrs["long_name"] = (
                "unbiased sample variance (n − 1) of " + text[5:] if text.startswith("mean ") else "variance"
            )
    ds.attrs.update(
        dict(
            n_configs=int(result.n_configs),
            n_steps=int(result.n_steps),
            seed=int(result.seed),
            units=UNITS,
            conventions="docs/conventions.md: |0> = ground state, s_z = diag(j - (d-1)/2), tensor order system ⊗ reservoir",
        )
    )
    ds.attrs.update(versions())
    ds.attrs.update(_info_attrs(result.info))
    ds.attrs.update(model_attrs(model))
    for k, v in (attrs or {}).items():
        ds.attrs.update(_attr_items(k, v))
    return ds


def result_to_xarray(result, model=None, attrs=None):
    """An :class:`~jaxthermo.EnsembleResult` as an ``xarray.Dataset`` (layout: module docstring).

    Args:
      result: the ensemble result.
      model: optionally the model it was run with; its parameters become attributes.
      attrs: extra attributes (netCDF-safe values; others are written as strings).
    """
    xr = _require_xarray()
    check_model_describes(model, result)
    ds = xr.Dataset(_variables(result), coords=_coords(result))
    return _finish(ds, result, model, attrs)


# the dims whose length is set by N: a grid over several N pads them to the largest N
_N_DIMS = {"collision": 0, "step": 1}  # length N + offset


def _padded_to(arr, dims, n_max):
    """``arr`` (a point's variable with ``dims``) padded with NaN along its N-dims to the largest N."""
    pad = [(0, n_max + _N_DIMS[dim] - size if dim in _N_DIMS else 0) for dim, size in zip(dims, arr.shape)]
    if not any(after for _, after in pad):
        return arr
    if arr.dtype.kind not in "fc":  # no integer variable has an N-dim; none may be padded with a made-up count
        raise ValueError(f"cannot pad an integer variable with dims {dims} to N = {n_max}")
    return np.pad(arr, pad, constant_values=np.nan)


def _common_info(results) -> dict:
    """The run metadata (``info``) that every grid point shares: a grid over several N runs one batch per N,
    whose chunk size, elapsed time, ``divergence_every`` … differ; the first N's described none of the others."""
    first = results[0].info
    out = {}
    for k, v in first.items():
        if all(k in r.info and np.array_equal(np.asarray(r.info[k]), np.asarray(v)) for r in results[1:]):
            out[k] = v
    return out


def sweep_to_xarray(sweep, model=None, attrs=None):
    """A :class:`~jaxthermo.SweepResult` as an ``xarray.Dataset``: one dimension per grid parameter
    (coordinates: its values), then the dims of :func:`result_to_xarray`.

    A grid over several N (``n_steps``) takes the largest N's ``collision`` and ``step`` coordinates;
    the per-collision and per-step variables of a point with a smaller N are NaN past its own N (their
    attribute ``padding`` says so, and the Dataset's ``padded_to_n_steps`` gives the largest N);
    ``ds.sel(n_steps=n).isel(collision=slice(n), step=slice(n + 1))`` is that point's own
    ``.to_xarray()``. Metadata that differ between the grid points (the chunk size and elapsed time
    of each N's batch, ``divergence_every``) are not written as attributes; ``n_steps`` is the coordinate."""
    xr = _require_xarray()
    names = list(sweep.axes)
    shape = sweep.shape
    results = sweep.results
    n_max = max(int(r.n_steps) for r in results)
    several = len({int(r.n_steps) for r in results}) > 1
    per_point = [_variables(r) for r in results]
    data, padded = {}, []
    for key, (dims, _) in per_point[0].items():
        arrays = [_padded_to(v[key][1], dims, n_max) for v in per_point]
        if several and any(d in _N_DIMS for d in dims):
            padded.append(key)
        data[key] = (tuple(names) + dims, np.stack(arrays).reshape(shape + arrays[0].shape))
    longest = next(r for r in results if int(r.n_steps) == n_max)
    check_model_describes(model, longest, scanned=names)
    coords = _coords(longest)
    for name, values in sweep.axes.items():
        coords[name] = (name, np.asarray(values))
    # histogram edges differ per point: already stacked as data variables
    ds = xr.Dataset(data, coords=coords)
    ds = _finish(ds, dataclasses.replace(longest, info=_common_info(results)), model, attrs)
    # a scanned parameter's value is its coordinate: the model's unscanned base value (model_theta = 0.3 on a
    # grid over θ = 0.1, 0.2) described no point of the sweep, nor the first point's N a grid over N
    for name in names:
        for key in (f"model_{name}", f"distribution_{name}") + (("n_steps",) if name == "n_steps" else ()):
            if attrs is None or key not in attrs:
                ds.attrs.pop(key, None)
    for key in padded:
        ds[key].attrs["padding"] = "NaN past the grid point's own N (n_steps): a grid over several N"
    if several:
        ds.attrs["padded_to_n_steps"] = n_max
    ds.attrs["grid"] = ",".join(names)
    return ds
