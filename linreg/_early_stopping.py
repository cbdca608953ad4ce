"""early_stopping: scikit-learn's validation split and stopping rule, keeping the best
weights.

With early_stopping=True a fit holds out `validation_fraction` of the rows, chosen as
scikit-learn's ShuffleSplit(test_size=validation_fraction, random_state=random_state)
chooses them (so an int random_state gives scikit-learn's split), trains on the others
(GD: their weights; SGD: only they are visited), and after every epoch scores the model
on the held-out rows (R^2, weighted by sample_weight). It stops once n_iter_no_change
epochs in a row have not raised the best score by tol, as scikit-learn's SGD, or with
lr_schedule="adaptive" divides the learning rate by 5 instead while it is above
scikit-learn's floor. Unlike scikit-learn's SGDRegressor, which keeps the last weights,
the fit ends with the weights of the best epoch.

The held-out rows are copied once (validation_fraction of X); each epoch costs one
prediction over them, from Python between compiled epochs (as a callback's).
"""
import math

import numpy as np

from linreg import kernels

__all__ = ["ValidationMonitor", "validation_split", "hold_out"]

#: "adaptive" stops dividing the step below this lr (scikit-learn's eta 1e-6, halved).
ADAPTIVE_FLOOR = 5e-7


def validation_split(n_samples, fraction, random_state, sample_weight=None):
    """(training rows, validation rows), each sorted, as scikit-learn's SGD estimators
    split: the first ceil(fraction n) entries of a permutation of the rows (from
    numpy.random.RandomState(random_state) for an int) are held out.

    Raises ValueError when either part is empty or every held-out weight is zero."""
    n_test = math.ceil(fraction * n_samples)
    n_train = n_samples - n_test
    if n_train <= 0 or n_test <= 0:
        raise ValueError(
            f"early_stopping with validation_fraction={fraction} splits the {n_samples} "
            f"samples into {n_train} to train on and {n_test} to validate on: both need "
            "at least one; change validation_fraction or pass more samples")
    permutation = _legacy_generator(random_state).permutation(n_samples)
    validation = np.sort(permutation[:n_test])
    training = np.sort(permutation[n_test:])
    if sample_weight is not None and not sample_weight[validation].any():
        raise ValueError("early_stopping: the sample weights of the validation rows are all "
                         "zero; use another random_state or validation_fraction")
    return training, validation


def _legacy_generator(random_state):
    """What scikit-learn's check_random_state makes of random_state (a Generator is
    used as it is)."""
    if random_state is None:
        return np.random.mtrand._rand
    if isinstance(random_state, (np.random.RandomState, np.random.Generator)):
        return random_state
    return np.random.RandomState(random_state)


class ValidationMonitor:
    """Scores each epoch on the held-out rows and decides when to stop.

    Parameters
    ----------
    X_val, Y_val : ndarray of shape (m, d) and (m, k)
        The held-out rows (copies): X in the training dtype, Y in float64.
    weights : ndarray of shape (m,) or None
        Their sample weights.
    tol : float
        The least rise of the best validation R^2 that counts as an improvement.
    patience : int
        n_iter_no_change.
    adaptive : bool
        lr_schedule="adaptive": divide the step by 5 instead of stopping, while
        lr * lr_factor > ADAPTIVE_FLOOR.
    n_threads : int or None
    """

    def __init__(self, X_val, Y_val, weights, tol, patience, adaptive, n_threads):
        self.X_val, self.Y_val, self.weights = X_val, Y_val, weights
        self.tol, self.patience, self.adaptive = tol, patience, adaptive
        self.n_threads = n_threads
        self.scores = []
        self.best_score = -np.inf
        self.best_model = None
        self.best_epoch = 0
        self._bad_epochs = 0
        w = np.ones(len(Y_val)) if weights is None else weights
        centred = Y_val - np.average(Y_val, axis=0, weights=w)
        self._w = w[:, None]
        self._total = (self._w * centred**2).sum(axis=0)

    def score(self, W, b):
        """R^2 of X_val W + b on Y_val (weighted; outputs averaged), as `score`."""
        predicted = kernels.predict(self.X_val, W, b, n_threads=self.n_threads)
        error = predicted.reshape(self.Y_val.shape).astype(np.float64) - self.Y_val
        residual = (self._w * error**2).sum(axis=0)
        total = self._total
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(total > 0, 1.0 - residual / np.where(total > 0, total, 1.0),
                          np.where(residual == 0, 1.0, 0.0))
        return float(r2.mean())

    def after_epoch(self, epoch, model, slot, state, lr):
        """Score the model of `slot` after `epoch`; True when training should stop. The
        best model so far is kept (a copy of every slot, so training could go on from
        it); "adaptive" lowers state's lr_factor instead of stopping."""
        d = model.shape[1] - 1
        score = self.score(model[slot, :d], model[slot, d])
        self.scores.append(score)
        if score < self.best_score + self.tol:
            self._bad_epochs += 1
        else:
            self._bad_epochs = 0
        if score > self.best_score:
            self.best_score, self.best_epoch = score, epoch
            self.best_model = model.copy()
        if self._bad_epochs < self.patience:
            return False
        if self.adaptive and lr * float(state["lr_factor"][0]) > ADAPTIVE_FLOOR:
            state["lr_factor"] /= 5.0
            self._bad_epochs = 0
            return False
        return True


def hold_out(X, Y, sample_weight, options, random_state):
    """Split off the validation rows of a fit with early_stopping.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    Y : ndarray of shape (n, k)
    sample_weight : ndarray of shape (n,) or None
    options : linreg._options.FitOptions
    random_state : the estimator's random_state (scikit-learn's split for an int)

    Returns
    -------
    monitor : ValidationMonitor
        Holding copies of the validation rows.
    weights : ndarray of shape (n,)
        The training weights: sample_weight (or 1), 0 on the validation rows.
    rows : ndarray of shape (n_train,)
        The training rows, in order (what an SGD epoch visits).
    """
    training, validation = validation_split(X.shape[0], options.validation_fraction,
                                            random_state, sample_weight)
    weights = np.ones(X.shape[0]) if sample_weight is None else sample_weight.copy()
    weights[validation] = 0.0
    monitor = ValidationMonitor(
        X[validation], Y[validation].astype(np.float64),
        None if sample_weight is None else sample_weight[validation],
        options.validation_tol, options.patience, options.stop.adaptive, options.n_threads)
    return monitor, weights, training
