"""Images and sequences: samples that are arrays of more than one axis.

A table's sample is a vector of features; an image's is an array of shape
``(channels, height, width)``, a sequence's ``(steps, features)``. ``X`` of
three or more axes holds such samples along its first axis: the student (a
torch module) and a torch or skorch teacher read them as they are, a
scikit-learn teacher reads each flattened into one row. The shape of one
sample is recorded in ``fit`` (``input_shape_``) and checked at predict time.
"""

import numpy as np
from sklearn.utils.validation import check_array

__all__ = ["check_shaped", "sample_shape"]


def sample_shape(fitted):
    """The shape of one sample the student reads: ``input_shape_``, or ``(width,)``.

    ``fitted``: the fitted attributes that describe the data (a dict).

    Examples
    --------
    >>> sample_shape({"n_student_features_": 64})
    (64,)
    >>> sample_shape({"n_student_features_": 64, "input_shape_": (1, 8, 8)})
    (1, 8, 8)
    """
    shape = fitted.get("input_shape_")
    return tuple(shape) if shape is not None else (int(fitted["n_student_features_"]),)


def check_shaped(estimator, X, reset):
    """``X`` of 3 or more axes checked as float numbers; its sample shape recorded or checked.

    With ``reset`` the shape of one sample is stored as ``input_shape_`` and
    its number of values as ``n_features_in_``; else ``X``'s samples must
    have the fitted shape. Values must be finite; float64 and float32 are
    kept, anything else becomes float64.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> model = SimpleNamespace()
    >>> check_shaped(model, np.zeros((3, 1, 8, 8)), reset=True).shape, model.input_shape_
    ((3, 1, 8, 8), (1, 8, 8))
    >>> check_shaped(model, np.zeros((3, 1, 8, 9)), reset=False)
    Traceback (most recent call last):
    ...
    ValueError: X holds samples of shape (1, 8, 9), but SimpleNamespace was fitted on ...
    """
    name = type(estimator).__name__
    fitted = getattr(estimator, "input_shape_", None)
    if not reset and fitted is None:
        raise ValueError(
            f"X has {np.ndim(X)} axes, but {name} was fitted on a table of "
            f"{estimator.n_features_in_} features: pass X of shape (n_samples, "
            f"{estimator.n_features_in_})."
        )
    X = check_array(
        X, dtype=(np.float64, np.float32), allow_nd=True, input_name="X", estimator=estimator
    )
    if reset:
        estimator.input_shape_ = tuple(int(n) for n in X.shape[1:])
        estimator.n_features_in_ = int(np.prod(X.shape[1:]))
        vars(estimator).pop("feature_names_in_", None)
    elif X.shape[1:] != tuple(fitted):
        raise ValueError(
            f"X holds samples of shape {X.shape[1:]}, but {name} was fitted on samples of "
            f"shape {tuple(fitted)}: pass X of shape (n_samples, "
            f"{', '.join(map(str, fitted))})."
        )
    return X
