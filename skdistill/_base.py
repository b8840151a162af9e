"""What every distiller shares: parameters, data checks, the skorch net and inference.

:class:`BaseDistiller` trains a student network on rows, teacher outputs and
targets that a concrete estimator (classifier, regressor) has prepared; it knows
nothing about labels or probabilities.
"""

import contextlib
import copy
import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping
from skorch.helper import predefined_split

from ._callbacks import AgreementScoring
from ._data import DistillationDataset, TensorBatchLoader
from ._net import DistillationNet
from ._params import PrefixedParamsMixin
from ._student import build_student

__all__ = ["BaseDistiller"]

PREDICT_CHUNK_ROWS = 65536
"""Rows per forward pass at prediction time (bounds the memory of one call)."""


class BaseDistiller(PrefixedParamsMixin, BaseEstimator):
    """Shared machinery of the distilled estimators; not for direct use."""

    _parameter_constraints = {
        "teacher": [HasMethods(["fit"])],
        "student_module": "no_validation",
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [callable],
        "validation_fraction": [None, Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [None, Interval(Integral, 1, None, closed="left")],
        "callbacks": [None, list],
        "device": [str, torch.device],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    # ----------------------------------------------------------------- input
    def _validate_fit_data(self, X, y, **check_params):
        """Check X and y as scikit-learn does; return float32 X, y and X for the teacher."""
        X_checked, y = validate_data(
            self, X, y, dtype=(np.float64, np.float32), y_numeric=False, **check_params
        )
        X_teacher = X if hasattr(X, "columns") else X_checked
        return _to_float32(X_checked), y, X_teacher

    def _validate_predict_data(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return _to_float32(X)

    def _check_device(self):
        device = torch.device(self.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device={self.device!r} but CUDA is not available on this machine; "
                "use device='cpu'."
            )
        return device

    # -------------------------------------------------------------- training
    @contextlib.contextmanager
    def _atomic_fit(self):
        """Restore the previous fitted state if fitting fails, so no half-fitted model remains."""
        before = {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}
        try:
            yield
        except BaseException:
            for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
                delattr(self, name)
            vars(self).update(before)
            raise

    def _seed(self):
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _split_rows(self, n_rows, stratify, seed):
        """Return (train, valid) row indices; valid is None without a hold-out."""
        rows = np.arange(n_rows)
        if not self.validation_fraction:
            return rows, None
        n_valid = math.ceil(self.validation_fraction * n_rows)
        if n_valid >= n_rows:
            warnings.warn(
                f"Too few rows ({n_rows}) to hold out validation_fraction="
                f"{self.validation_fraction}; training without a validation split "
                "or early stopping.",
                UserWarning,
            )
            return rows, None
        if stratify is not None:
            _, counts = np.unique(stratify, return_counts=True)
            if counts.min() < 2 or n_valid < len(counts) or n_rows - n_valid < len(counts):
                stratify = None
        train, valid = train_test_split(
            rows, test_size=n_valid, random_state=seed, stratify=stratify
        )
        return np.sort(train), np.sort(valid)

    def _make_net(self, module, criterion, seed, has_valid):
        callbacks = [("agreement", AgreementScoring())]
        if has_valid and self.n_iter_no_change:
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_loss", patience=self.n_iter_no_change, load_best=True
                    ),
                )
            )
        callbacks += copy.deepcopy(self.callbacks or [])
        iterator_kwargs = {
            "iterator_train__shuffle": True,
            "iterator_train__seed": seed,
            **{f"iterator_train__{k}": v for k, v in self._routed_params("iterator_train").items()},
            **{f"iterator_valid__{k}": v for k, v in self._routed_params("iterator_valid").items()},
            **{f"optimizer__{k}": v for k, v in self._routed_params("optimizer").items()},
            **{f"callbacks__{k}": v for k, v in self._routed_params("callbacks").items()},
        }
        return DistillationNet(
            module=module,
            criterion=criterion,
            optimizer=self.optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=TensorBatchLoader,
            iterator_valid=TensorBatchLoader,
            train_split=None,
            callbacks=callbacks,
            verbose=self.verbose,
            device=self.device,
            **iterator_kwargs,
        )

    def _train_student(self, X, teacher_out, target, criterion, n_outputs, stratify=None):
        """Fit (or, with warm_start, continue fitting) ``self.student_``.

        Parameters
        ----------
        X : float32 ndarray (n, n_features)
        teacher_out : float32 ndarray (n, n_outputs), aligned with the student's outputs
        target : ndarray (n,), class indices or regression targets
        criterion : nn.Module called as criterion(student_out, teacher_out, target)
        n_outputs : int
        stratify : ndarray or None, labels for a stratified validation split
        """
        device = self._check_device()
        seed = self._seed()
        rows = DistillationDataset(
            torch.from_numpy(X), torch.from_numpy(teacher_out), torch.from_numpy(target)
        ).to(device)
        train_idx, valid_idx = self._split_rows(len(X), stratify, seed)
        train = torch.utils.data.Subset(rows, train_idx)
        valid = None if valid_idx is None else torch.utils.data.Subset(rows, valid_idx)

        forked = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=forked):
            torch.manual_seed(seed)
            net = getattr(self, "student_", None) if self.warm_start else None
            if net is None:
                module = build_student(
                    self.student_module, self._routed_params("module"), X.shape[1], n_outputs
                )
                net = self._make_net(module, criterion, seed, has_valid=valid is not None)
                net.initialize()
            else:
                net.criterion = criterion
                net.initialize_criterion()
                net.set_params(max_epochs=self.max_epochs, lr=self.lr, verbose=self.verbose)
            net.train_split = None if valid is None else predefined_split(valid)
            try:
                net.partial_fit(train)
            finally:
                net.train_split = None  # hold no data in the fitted model
        return net

    # ------------------------------------------------------------- inference
    def _student_output(self, X):
        """Raw student outputs for float32 rows, as a float64 ndarray."""
        net = self.student_
        module = net.module_
        module.eval()
        outputs = []
        with torch.inference_mode():
            for start in range(0, len(X), PREDICT_CHUNK_ROWS):
                chunk = torch.from_numpy(X[start : start + PREDICT_CHUNK_ROWS]).to(net.device)
                outputs.append(module(chunk).double().cpu())
        return torch.cat(outputs).numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags


def _to_float32(X):
    """Copy X to a writable float32 array, refusing values float32 cannot hold."""
    with np.errstate(over="ignore"):
        X32 = np.array(X, dtype=np.float32, order="C", copy=True)
    if not np.isfinite(X32).all():
        raise ValueError(
            "X has values too large for float32 (the student computes in float32, whose "
            "largest value is about 3.4e38); rescale the features, e.g. with StandardScaler."
        )
    return X32
