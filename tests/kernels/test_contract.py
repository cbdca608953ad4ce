"""The contract every kernel meets: it agrees with its NumPy twin in `linreg.reference`
on every compiled build, dtype, memory layout of X and Y, and shape of the targets.

This is where a new kernel (an optimizer's epochs, say) plugs in: write a
run(module, X, Y, W, b) that calls it through `module` (linreg.kernels or
linreg.reference: same names, same signatures) and returns what must agree, and add it
to KERNEL_RUNS. The `problem` fixture (kernels/conftest.py) runs it on every combination;
`_helpers.assert_matches_reference` compares integers exactly and floats at rtol 1e-12
(float64) or 1e-5 (float32, against the reference in float32 and in float64).
test_vs_reference.py sweeps sizes chosen against the kernels' structure for the first
four kernels; write such a sweep for a new kernel too.
"""
import numpy as np
import pytest

from _helpers import assert_matches_reference, stable_lr_for


def run_loss_and_grad(module, X, Y, W, b):
    # NaN-filled gradients: every entry must be written, or the finite check fails.
    grad_W, grad_b = np.full_like(W, np.nan), np.full_like(b, np.nan)
    loss = module.loss_and_grad(X, Y, W, b, grad_W, grad_b)
    return {"loss": loss, "grad_W": grad_W, "grad_b": grad_b}


def run_predict(module, X, Y, W, b):
    return {"predictions": module.predict(X, W, b)}


def run_gd_epochs(module, X, Y, W, b):
    loss_out = np.full(5, np.nan)
    n_done = module.gd_epochs(X, Y, W, b, stable_lr_for(W), loss_out)
    return {"epochs done": n_done, "loss_out": loss_out, "W": W, "b": b}


def run_sgd_epoch(module, X, Y, W, b):
    order = np.arange(X.shape[0])[::-1].copy()
    mean_loss = module.sgd_epoch(X, Y, W, b, stable_lr_for(W), order=order, batch_size=3)
    return {"mean loss": mean_loss, "W": W, "b": b}


def run_sgd_epochs_shuffled(module, X, Y, W, b):
    order, rng_state = np.arange(X.shape[0]), np.array([2024], dtype=np.uint64)
    loss_out = np.full(3, np.nan)
    n_done = module.sgd_epochs(X, Y, W, b, stable_lr_for(W), loss_out, order=order,
                               batch_size=2, rng_state=rng_state)
    return {"epochs done": n_done, "loss_out": loss_out, "W": W, "b": b, "order": order,
            "rng_state": rng_state}


def run_gd_epochs_gram(module, X, Y, W, b):
    loss_out = np.full(5, np.nan)
    n_done = module.gd_epochs_gram(module.gram_statistics(X, Y), W, b, stable_lr_for(W), loss_out)
    return {"epochs done": n_done, "loss_out": loss_out, "W": W, "b": b}


# The plug-in point: one run per kernel (or per mode of a kernel).
KERNEL_RUNS = {
    "loss_and_grad": run_loss_and_grad,
    "predict": run_predict,
    "gd_epochs": run_gd_epochs,
    "sgd_epoch": run_sgd_epoch,
    "sgd_epochs-shuffled": run_sgd_epochs_shuffled,
    "gd_epochs_gram": run_gd_epochs_gram,
}


@pytest.mark.parametrize("kernel", list(KERNEL_RUNS))
def test_every_kernel_on_every_layout(problem, kernel):
    outputs = assert_matches_reference(KERNEL_RUNS[kernel], problem, kernel)
    for name, value in outputs.items():
        assert np.isfinite(value).all(), f"{kernel}: {name} is not finite"
    if "epochs done" in outputs:  # the problem must not diverge, or the test is moot
        assert outputs["epochs done"] == len(outputs["loss_out"])
