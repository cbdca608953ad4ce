"""Saving and loading models in a portable file whose loading executes no code.

The file is a NumPy .npz archive (a zip of .npy arrays) read with allow_pickle=False:
strings and numbers only, no pickle anywhere. It holds

    format        "linreg-model"             version   1
    estimator     "GDRegressor" | "SGDRegressor"
    params        the constructor parameters, as JSON
    and, for a fitted model: coef_, intercept_, loss_curve_, n_iter_, n_features_in_

Arrays keep their dtype and values exactly, so a loaded model predicts bit-identically.
"""
import json
import numbers
import os
import warnings
import zipfile

import numpy as np

__all__ = ["save", "load"]

FORMAT = "linreg-model"
VERSION = 1
_FITTED = ("coef_", "intercept_", "loss_curve_", "n_iter_", "n_features_in_")


def _estimator_classes():
    from linreg.estimators import GDRegressor, SGDRegressor

    return {cls.__name__: cls for cls in (GDRegressor, SGDRegressor)}


def _portable_params(model):
    """The parameters as JSON values; callables and random generators cannot be saved."""
    params = {}
    for name, value in model.get_params().items():
        if isinstance(value, (bool, np.bool_)):
            params[name] = bool(value)
        elif value is None or isinstance(value, str):
            params[name] = value
        elif isinstance(value, numbers.Integral):
            params[name] = int(value)
        elif isinstance(value, numbers.Real):
            params[name] = float(value)
        else:
            warnings.warn(
                f"{name}={value!r} cannot be saved (it is code or generator state); "
                f"the loaded model has {name}=None",
                UserWarning,
                stacklevel=3,
            )
            params[name] = None
    return params


def save(model, path):
    """Write `model` (fitted or not) to the file `path`, exactly at that name.

    Parameters
    ----------
    model : GDRegressor or SGDRegressor
    path : str or os.PathLike
    """
    arrays = {
        "format": np.array(FORMAT),
        "version": np.array(VERSION),
        "estimator": np.array(type(model).__name__),
        "params": np.array(json.dumps(_portable_params(model))),
    }
    if hasattr(model, "coef_"):
        coef = np.asarray(model.coef_)
        arrays.update(
            coef_=coef,
            intercept_=np.asarray(model.intercept_, dtype=coef.dtype),  # exact: it came from it
            loss_curve_=np.asarray(model.loss_curve_),
            n_iter_=np.array(model.n_iter_),
            n_features_in_=np.array(model.n_features_in_),
        )
    with open(path, "wb") as file:  # a file object: np.savez would append ".npz" to a name
        np.savez(file, **arrays)


def load(path):
    """Read a model written by `save` (or `model.save`).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    model : GDRegressor or SGDRegressor

    Raises
    ------
    ValueError
        When the file is not a linreg model file: truncated, corrupt, of another kind,
        of a newer format version, or inconsistent.
    """
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike file name, got {type(path).__name__}")
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):  # a .npy file: one bare array
            raise ValueError("it holds a single array, not an archive")
        with archive:
            contents = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path} is not a readable linreg model file: {exc}") from None
    return _model_from(contents, path)


def _text(contents, name, path):
    value = contents.get(name)
    if value is None or value.dtype.kind != "U" or value.ndim != 0:
        raise ValueError(f"{path} is not a linreg model file: no valid {name!r} entry")
    return str(value)


def _model_from(contents, path):
    if contents.get("format") is None or _text(contents, "format", path) != FORMAT:
        raise ValueError(f"{path} is not a linreg model file (no '{FORMAT}' marker)")
    version = contents.get("version")
    if version is None or version.shape != () or version.dtype.kind not in "iu":
        raise ValueError(f"{path} is not a valid linreg model file: bad version entry")
    if int(version) > VERSION:
        raise ValueError(
            f"{path} was written in format version {int(version)}; this linreg reads up to "
            f"version {VERSION}: upgrade linreg"
        )
    classes = _estimator_classes()
    name = _text(contents, "estimator", path)
    if name not in classes:
        raise ValueError(f"{path}: unknown estimator {name!r}; expected one of {sorted(classes)}")
    try:
        params = json.loads(_text(contents, "params", path))
        model = classes[name](**params)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: invalid parameters: {exc}") from None
    present = [key for key in _FITTED if key in contents]
    if not present:
        return model
    if len(present) != len(_FITTED):
        raise ValueError(f"{path}: incomplete model, missing {sorted(set(_FITTED) - set(present))}")
    _restore_fitted(model, contents, path)
    return model


def _restore_fitted(model, contents, path):
    coef = contents["coef_"]
    intercept = contents["intercept_"]
    losses = contents["loss_curve_"]
    n_iter = contents["n_iter_"]
    n_features = contents["n_features_in_"]
    problems = []
    if coef.dtype not in (np.float32, np.float64) or coef.ndim not in (1, 2):
        problems.append(f"coef_ must be a 1-D or 2-D float array, got {coef.dtype} {coef.shape}")
    elif n_features.shape != () or n_features.dtype.kind not in "iu" or coef.shape[-1] != n_features:
        problems.append("coef_ and n_features_in_ disagree")
    elif intercept.dtype != coef.dtype or intercept.shape != coef.shape[:-1]:
        problems.append(f"intercept_ of shape {intercept.shape} does not match coef_ {coef.shape}")
    if losses.dtype != np.float64 or losses.ndim != 1 or not np.isfinite(losses).all():
        problems.append("loss_curve_ must be a 1-D float64 array of finite losses")
    if n_iter.shape != () or n_iter.dtype.kind not in "iu" or n_iter < 0:
        problems.append("n_iter_ must be a non-negative integer")
    if not problems and not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
        problems.append("coef_ or intercept_ holds NaN or infinity")
    if problems:
        raise ValueError(f"{path} is not a valid linreg model file: " + "; ".join(problems))
    # Keep the estimator's invariant: coef_ is the transpose of a C-contiguous W.
    W = np.ascontiguousarray(coef.T)
    model.coef_ = W.T
    model.intercept_ = float(intercept) if coef.ndim == 1 else intercept
    model.loss_curve_ = losses
    model.n_iter_ = int(n_iter)
    model.n_features_in_ = int(n_features)
