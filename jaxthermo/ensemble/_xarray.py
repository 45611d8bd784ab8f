"""Results as xarray Datasets: named dimensions, coordinates and attributes (docs/ensemble.md).

xarray is optional (``pip install "jaxthermo[io]"``) and imported inside the functions only.

Layout of :func:`result_to_xarray` (one :class:`EnsembleResult`):

* dims ``collision`` (r = 1…N), ``step`` (r = 0…N), ``alpha`` (the orders of D_α), ``row``/``col``
  (matrix indices of the d×d states, |0⟩ = ground state), ``bin``/``edge`` of the W_N histogram and
  ``collision_bin``/``collision_edge`` of the single-collision W histogram;
* every per-collision mean ``mean_X`` and variance ``var_X`` with dims (collision,), the divergences
  (step, alpha), the trace distances (step,);
* complex matrices are stored as two real variables, ``X_real`` and ``X_imag``
  (``mean_state_real`` …, dims (step, row, col)), so that every netCDF backend can write them:
  ``ds.mean_state_real + 1j * ds.mean_state_imag`` restores the state;
* a run with ``wrt``: its derivatives ``sensitivity_<name>_<field>`` with the dims of ``<field>``
  (a θ schedule adds ``<name>_entry``: ∂/∂θ_s) and ``delta_sensitivity_<field>`` over
  (collision[, alpha]) (docs/ensemble.md §5);
* coordinates carry a ``long_name``, and those of a grid over β, g0, θ, σ, ``width``, ``delta`` their
  ``units`` (1/energy, energy, rad, dimensionless);
* attributes: ``n_configs``, ``seed``, ``n_steps``, ``units``, the versions of jaxthermo, JAX and
  NumPy, the run metadata (dtype, chunk size, devices, elapsed time) and, when a model is given,
  its parameters (``model_d``, ``model_beta``, ``model_g0``, ``model_theta``, ``model_kind``,
  ``model_coupling``, ``distribution``, ``distribution_sigma`` …). Attributes are netCDF-safe:
  strings, numbers, 1-d arrays (booleans become 0/1).

:func:`sweep_to_xarray` stacks the grid points along one dimension per grid parameter (in grid
order) in front of those dims.
"""

from __future__ import annotations

import dataclasses

import numpy as np

UNITS = (
    "energies (work, heat, energy change) in the units of g0 (ħ = k_B = 1); beta in 1/(units of g0); "
    "divergences in nats; heat is heat into the system (given up by the reservoir qudit), work is work "
    "done on system + reservoir qudit by switching the collision on and off (docs/conventions.md §8)"
)

_PER_COLLISION = ("work", "heat", "energy_change", "cumulative_work", "cumulative_heat", "cumulative_energy_change")


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


def _attr_value(value):
    """A netCDF-safe attribute value, or None to drop it."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, float, str, np.integer, np.floating)):
        return value
    arr = np.asarray(value)
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int8)
    if arr.dtype.kind in "iuf" and arr.ndim <= 1:
        return arr
    if arr.dtype.kind in "iuf" and arr.ndim > 1:
        return arr.ravel()
    return str(value)


def model_attrs(model) -> dict:
    """Parameters of a model-A model as flat, netCDF-safe attributes (``model_*``, ``distribution*``)."""
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
                out[f"distribution_{g.name}"] = _attr_value(np.asarray(getattr(value, g.name)))
        elif f.name == "coupling":
            out["model_coupling"] = type(value).__name__
            if dataclasses.is_dataclass(value):
                for g in dataclasses.fields(value):
                    out[f"model_coupling_{g.name}"] = _attr_value(np.asarray(getattr(value, g.name)))
        else:
            v = value if isinstance(value, str) else np.asarray(value)
            out[f"model_{f.name}"] = _attr_value(v if not isinstance(v, np.ndarray) or v.ndim else v.item())
    return {k: v for k, v in out.items() if v is not None}


def _info_attrs(info: dict) -> dict:
    out = {}
    for k, v in info.items():
        if k in ("rho0", "alphas"):
            continue
        v = _attr_value(v)
        if v is not None:
            out[k] = v
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
    for key in ("mean_divergence", "var_divergence", "mean_state_divergence"):
        out[key] = (p + ("step", "alpha"), np.asarray(getattr(result, key)))
    for key in ("mean_state_trace_distance", "mean_state_thermal_trace_distance"):
        out[key] = (p + ("step",), np.asarray(getattr(result, key)))
    for key in ("work_cumulants", "heat_cumulants"):  # k2, k3, k4 of W_N and Q_N
        out[key] = (p + ("cumulant",), np.asarray(getattr(result, key)))
    for key in ("mean_exp_minus_beta_work", "stderr_exp_minus_beta_work"):
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
                out[f"sensitivity_{name}_{f.name}{suffix}"] = (p + dims, np.ascontiguousarray(arr))
    delta = getattr(result, "delta_sensitivity", None)
    if delta is not None:
        for field, value in zip(delta._fields, delta):
            arr = np.asarray(value)
            out[f"delta_sensitivity_{field}"] = (p + ("collision", "alpha")[: arr.ndim], arr)
    return out


_DESCRIPTIONS = {
    "mean_work": "mean work W_r done on the system in collision r",
    "mean_heat": "mean heat Q_r into the system in collision r",
    "mean_energy_change": "mean system energy change ΔU_r in collision r",
    "mean_cumulative_work": "mean accumulated work W_1 + … + W_r",
    "mean_cumulative_heat": "mean accumulated heat Q_1 + … + Q_r",
    "mean_cumulative_energy_change": "mean accumulated energy change",
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
    "work_histogram_overflow": "configurations with W_N above the last edge",
    "collision_work_histogram_counts": "collisions per bin of the single-collision work W_r (all r, all configurations)",
    "collision_work_histogram_edges": "bin edges of the single-collision W_r histogram",
    "collision_work_histogram_underflow": "collisions with W_r below the first edge",
    "collision_work_histogram_overflow": "collisions with W_r above the last edge",
    "mean_state_real": "real part of the mean system state ρ̄_r",
    "mean_state_imag": "imaginary part of the mean system state ρ̄_r",
}


def _sensitivity_descriptions(result) -> dict:
    """Long names of the variables of :func:`_sensitivity_variables`."""
    out = {}
    for name, sens in (getattr(result, "sensitivity", None) or {}).items():
        for f in dataclasses.fields(sens):
            stat, _, field = f.name.partition("_")
            if stat in ("mean", "var") and isinstance(getattr(sens, f.name), np.ndarray):
                text = (
                    f"∂/∂{name} of mean_{field}"
                    if stat == "mean"
                    else f"variance over configurations of the per-configuration ∂/∂{name} of {field}"
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
            f"{'mean' if stat == 'mean' else 'variance'} over configurations of ∂{quantity}/∂δ_r"
        )
    return out


# long names and units of the coordinates (docs/inhomogeneous.md §1: H_S = g0 s_z, g_r = g0(1 + δ_r) or
# β_r = β(1 + δ_r), the partial swap U(θ)); a grid coordinate got its values only, no meaning or unit
_COORD_ATTRS = {
    "collision": {"long_name": "collision r (1…N)"},
    "step": {"long_name": "collisions done r (0 = the initial state ρ0)"},
    "cumulant": {"long_name": "order k of the cumulant k-statistic"},
    "alpha": {"long_name": "Rényi order α of D_α"},
    "row": {"long_name": "matrix row index (|0⟩ = ground state)"},
    "col": {"long_name": "matrix column index (|0⟩ = ground state)"},
    "beta": {"long_name": "inverse temperature β of the reservoir", "units": "1/energy"},
    "g0": {"long_name": "energy gap g0 of H_S = g0 s_z (unperturbed reservoir qudit)", "units": "energy"},
    "theta": {"long_name": "collision angle θ of the partial swap U(θ) = cos θ + i sin θ S", "units": "rad"},
    "sigma": {"long_name": "standard deviation σ of the Gaussian law of δ_r", "units": "dimensionless"},
    "width": {"long_name": "width of the uniform law of δ_r on [−width/2, width/2]", "units": "dimensionless"},
    "delta": {"long_name": "δ of the two-point law of δ_r (±δ)", "units": "dimensionless"},
    "n_steps": {"long_name": "number of collisions N"},
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


def _finish(ds, result, model, attrs):
    _label_coords(ds)
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
        v = _attr_value(v)
        if v is not None:
            ds.attrs[k] = v
    return ds


def result_to_xarray(result, model=None, attrs=None):
    """An :class:`~jaxthermo.EnsembleResult` as an ``xarray.Dataset`` (layout: module docstring).

    Args:
      result: the ensemble result.
      model: optionally the model it was run with; its parameters become attributes.
      attrs: extra attributes (netCDF-safe values; others are written as strings).
    """
    xr = _require_xarray()
    ds = xr.Dataset(_variables(result), coords=_coords(result))
    return _finish(ds, result, model, attrs)


def sweep_to_xarray(sweep, model=None, attrs=None):
    """A :class:`~jaxthermo.SweepResult` as an ``xarray.Dataset``: one dimension per grid parameter
    (coordinates: its values), then the dims of :func:`result_to_xarray`. A grid over ``n_steps``
    needs the same N at every point to stack (otherwise: one Dataset per N via ``sweep.at``)."""
    xr = _require_xarray()
    names = list(sweep.axes)
    shape = sweep.shape
    steps = {r.n_steps for r in sweep.results}
    if len(steps) > 1:
        raise ValueError(
            f"sweep_to_xarray: the grid has several N ({sorted(steps)}); convert each point with .to_xarray()"
        )
    per_point = [_variables(r) for r in sweep.results]
    data = {}
    for key, (dims, _) in per_point[0].items():
        stacked = np.stack([v[key][1] for v in per_point]).reshape(shape + per_point[0][key][1].shape)
        data[key] = (tuple(names) + dims, stacked)
    coords = _coords(sweep.results[0])
    if "n_steps" in names:
        coords = {k: v for k, v in coords.items()}
    for name, values in sweep.axes.items():
        coords[name] = (name, np.asarray(values))
    # histogram edges differ per point: already stacked as data variables
    ds = xr.Dataset(data, coords=coords)
    ds = _finish(ds, sweep.results[0], model, attrs)
    # a scanned parameter's value is its coordinate: the model's unscanned base value (model_theta = 0.3 on a
    # grid over θ = 0.1, 0.2) described no point of the sweep
    for name in names:
        for key in (f"model_{name}", f"distribution_{name}"):
            if attrs is None or key not in attrs:
                ds.attrs.pop(key, None)
    ds.attrs["grid"] = ",".join(names)
    return ds
