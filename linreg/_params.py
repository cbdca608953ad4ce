"""The scikit-learn estimator protocol of linreg's estimators, without scikit-learn:
get_params / set_params over the class's `_param_names`, a repr of the parameters that
differ from the defaults, and the tags scikit-learn reads (imported only when scikit-learn
asks for them). linreg never imports scikit-learn itself.
"""

__all__ = ["EstimatorParams"]


class EstimatorParams:
    """get_params, set_params, __repr__ and scikit-learn's tags, from `_param_names`."""

    _param_names = ()

    def __repr__(self):
        params = self.get_params()
        defaults = type(self)().get_params()
        shown = [f"{k}={v!r}" for k, v in params.items() if v is not defaults[k] and v != defaults[k]]
        return f"{type(self).__name__}({', '.join(shown)})"

    def get_params(self, deep=True):
        """The constructor's parameters, as scikit-learn's get_params."""
        return {name: getattr(self, name) for name in self._param_names}

    def set_params(self, **params):
        """Set constructor parameters, as scikit-learn's set_params; returns self."""
        for name, value in params.items():
            if name not in self._param_names:
                raise ValueError(
                    f"Invalid parameter {name!r} for {type(self).__name__}; "
                    f"valid parameters are: {', '.join(self._param_names)}"
                )
            setattr(self, name, value)
        return self

    def __sklearn_tags__(self):
        # Only scikit-learn calls this, so it may import scikit-learn.
        from sklearn.utils import InputTags, RegressorTags, Tags, TargetTags

        return Tags(
            estimator_type="regressor",
            target_tags=TargetTags(required=True, multi_output=True, single_output=True),
            regressor_tags=RegressorTags(),
            input_tags=InputTags(two_d_array=True),
        )

    _estimator_type = "regressor"  # how scikit-learn before 1.6 recognized regressors
