"""Saving and loading models in a portable file whose loading executes no code.

The file is a zip of NumPy .npy members, strings and numbers only, never a pickle
(`linreg._model_file` defines it and reads it with bounded memory). Arrays keep their
dtype and values exactly, so a loaded model predicts bit-identically.

`save(model, path)` is the same as ``model.save(path)``; `load(path)` checks what the
file holds (a known estimator, parameters that are a flat JSON object of plain values,
finite coefficients and losses) and builds the model. Imports run one way: this module
imports the estimators and the format; the estimators import the format only.
"""
import json
import os

import numpy as np

from linreg import _model_file
from linreg.estimators import GDRegressor, SGDRegressor

__all__ = ["save", "load"]

_ESTIMATORS = {cls.__name__: cls for cls in (GDRegressor, SGDRegressor)}


def save(model, path):
    """Write `model` (fitted or not) to `path`, exactly at that name; ``model.save(path)``.

    Parameters
    ----------
    model : GDRegressor or SGDRegressor
    path : str, bytes or os.PathLike, or a binary file object with write()
        A file name is written atomically (a new file in the same directory, flushed
        to disk, then renamed over `path`): if the save fails, a file already at
        `path` is left as it was.

    Raises
    ------
    TypeError
        If `model` is not a linreg estimator, or `path` not a file name or binary file.
    OSError
        If the file cannot be written.

    Warns
    -----
    UserWarning
        For a parameter that cannot be saved (a callback, a Generator as
        random_state): it loads as None.
    """
    if not isinstance(model, tuple(_ESTIMATORS.values())):
        raise TypeError(f"model must be a GDRegressor or SGDRegressor, got {type(model).__name__}")
    _model_file.write(path, model._model_file_members())


def load(path):
    """Read a model written by `save` (or `model.save`).

    Parameters
    ----------
    path : str, bytes or os.PathLike, or a binary file object with read() and seek()

    Returns
    -------
    model : GDRegressor or SGDRegressor

    Raises
    ------
    TypeError
        If `path` is not a file name or a binary file object.
    FileNotFoundError
        If there is no such file.
    ValueError
        When the file is not a linreg model file: truncated, corrupt, of another kind,
        of a newer format version, inconsistent, or larger once decompressed than the
        format allows (a compression bomb). Loading such a file allocates at most
        about 32 times the file's size plus 1 MiB.
    """
    contents = _model_file.read(path)
    where = _model_file_name(path)
    name = str(contents["estimator"][()])
    if name not in _ESTIMATORS:
        raise ValueError(
            f"{where}: unknown estimator {name!r}; expected one of {sorted(_ESTIMATORS)}"
        )
    params = _parse_params(str(contents["params"][()]), where)
    try:
        model = _ESTIMATORS[name](**params)
    except TypeError as exc:
        raise ValueError(f"{where}: invalid parameters for {name}: {exc}") from None
    if "coef_" in contents:
        _restore_fitted(model, contents, where)
    return model


def _model_file_name(path):
    """`path` as error messages name it (as linreg._model_file.read does)."""
    if isinstance(path, (str, bytes, os.PathLike)):
        return os.fsdecode(path)
    return getattr(path, "name", "the file object")


def _parse_params(text, where):
    """The constructor parameters: a flat JSON object of None, bool, int, float, str."""
    # Checked before parsing, so that deep nesting cannot reach the parser's recursion.
    if _brackets_outside_strings(text) > 1:
        raise ValueError(f"{where}: invalid parameters: not a flat JSON object")
    try:
        params = json.loads(text)
    except ValueError as exc:  # JSONDecodeError, and ints over Python's digit limit
        raise ValueError(f"{where}: invalid parameters: {exc}") from None
    if not isinstance(params, dict):
        raise ValueError(f"{where}: invalid parameters: not a JSON object")
    for key, value in params.items():
        if not (value is None or isinstance(value, (bool, int, float, str))):
            raise ValueError(f"{where}: invalid parameters: {key}={value!r} is not a plain value")
    return params


def _brackets_outside_strings(text):
    """How many "{" and "[" open in JSON `text` outside its strings (one, for a flat
    object); a linear scan (text is at most 65536 characters)."""
    count = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            count += 1
    return count


def _restore_fitted(model, contents, where):
    coef = contents["coef_"]
    intercept = contents["intercept_"]
    losses = contents["loss_curve_"]
    # Shapes, dtypes and the integers are the format's and already checked; the values
    # are the model's.
    problems = []
    if not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
        problems.append("coef_ or intercept_ holds NaN or infinity")
    if not np.isfinite(losses).all():
        problems.append("loss_curve_ must be a 1-D float64 array of finite losses")
    if problems:
        raise ValueError(f"{where} is not a valid linreg model file: " + "; ".join(problems))
    # Keep the estimator's invariant: coef_ is the transpose of a C-contiguous W.
    W = np.ascontiguousarray(coef.T)
    model.coef_ = W.T
    model.intercept_ = float(intercept) if coef.ndim == 1 else intercept
    model.loss_curve_ = losses
    model.n_iter_ = int(contents["n_iter_"])
    model.n_features_in_ = int(contents["n_features_in_"])
    if "feature_names_in_" in contents:  # a model fitted on a data frame (version 2)
        names = _model_file.decode_feature_names(contents["feature_names_in_"])
        model.feature_names_in_ = np.array(names, dtype=object)
