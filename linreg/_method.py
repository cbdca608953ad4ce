"""GDRegressor(method="auto"): "fused" or "gram", one decision for data in memory and
data in blocks (Dask, chunks); `choose_method` is public through `linreg.estimators`.
"""
__all__ = ["choose_method", "AUTO_GRAM_MAX_FEATURES"]

#: "auto" takes "gram" only up to this many features (the statistics are d*d doubles,
#: and on blocks each block sends them once: 128 MB at d = 4096).
AUTO_GRAM_MAX_FEATURES = 4096


def choose_method(method, n_samples, n_features, n_outputs, epochs, dtype=None):
    """What GDRegressor(method=...) uses for this problem: "fused" or "gram".

    "auto" counts multiply-adds: the fused path costs epochs * 2 n d k (forward and
    gradient), the gram path n (d (d+1)/2 + d k + d + k) once for the statistics plus
    epochs * (d^2 k + 2 d k); it takes "gram" when that is smaller and d is at most
    AUTO_GRAM_MAX_FEATURES. For n much larger than d this means: gram once epochs * k
    exceeds about d / 4.
    """
    if method not in ("auto", "fused", "gram"):
        raise ValueError(f"method must be one of 'auto', 'fused', 'gram', got {method!r}")
    if method != "auto":
        return method
    n, d, k = n_samples, n_features, n_outputs
    fused = epochs * 2 * n * d * k
    gram = n * (d * (d + 1) // 2 + d * k + d + k) + epochs * (d * d * k + 2 * d * k)
    return "gram" if d <= AUTO_GRAM_MAX_FEATURES and gram < fused else "fused"
