"""What every distiller shares: parameters, the fit flow, the skorch net and inference.

:class:`BaseDistiller` runs the steps common to the classifier and the
regressor -- check the data, fit the teacher on the labelled rows, collect its
outputs (cross-fitted if asked), add a synthetic transfer set, train the
student -- and leaves to each estimator what depends on the task: how targets
are encoded, what the teacher's outputs are, and the training criterion.
"""

import contextlib
import copy
import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import DataConversionWarning
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping
from skorch.helper import predefined_split

from ._callbacks import TrainingGuard
from ._data import DistillationDataset, TensorBatchLoader
from ._net import DistillationNet, InterruptedBeforeFirstEpoch
from ._params import PrefixedParamsMixin
from ._student import build_student
from ._cache import cached_call
from ._teacher import PRECOMPUTED, check_teacher, fit_and_score, is_prefit, teacher_outputs
from ._transfer import Munge

__all__ = ["BaseDistiller"]

PREDICT_CHUNK_ROWS = 65536
"""Rows per forward pass at prediction time (bounds the memory of one call)."""


class BaseDistiller(PrefixedParamsMixin, BaseEstimator):
    """Shared machinery of the distilled estimators; not for direct use.

    Subclasses define ``_task`` ("classifier" or "regressor"),
    ``_unlabelled_target`` and the hooks ``_encode_targets``, ``_scale_outputs``
    (raw teacher outputs to training targets), ``_precomputed_outputs``,
    ``_criterion`` and ``_callbacks``.
    """

    _parameter_constraints = {
        "teacher": [HasMethods(["fit"]), torch.nn.Module, StrOptions({PRECOMPUTED})],
        "student_module": "no_validation",
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "teacher_cv": [None, "cv_object"],
        "transfer_set": [None, Munge],
        "memory": [None, str, HasMethods(["cache"])],
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

    # --------------------------------------------------------------- the fit
    def _fit(self, X, y, precomputed=None):
        """Fit teacher and student. ``precomputed``: teacher outputs given to fit, or None."""
        self._check_extra_params()
        check_teacher(self.teacher, self._task)
        self._check_precomputed_usage(precomputed)
        with self._atomic_fit():
            X32, y, X_teacher = self._validate_fit_data(X, y)
            target, labelled = self._encode_targets(y)
            outputs = self._fit_teacher_outputs(X_teacher, y, labelled, precomputed)
            seed = self._seed()
            train_idx, valid_idx = self._split_rows(labelled, target, seed)
            X_all, outputs_all, target_all = self._add_transfer_set(
                X32, outputs, target, train_idx, seed
            )
            train_idx = np.concatenate([train_idx, np.arange(len(X32), len(X_all))])
            self.student_ = self._train_student(
                X_all, outputs_all, target_all, train_idx, valid_idx, seed
            )
        return self

    def _check_precomputed_usage(self, precomputed):
        if isinstance(self.teacher, str) and precomputed is None:
            raise ValueError(
                "teacher='precomputed' needs the teacher's outputs passed to fit, e.g. "
                f"fit(X, y, {self._precomputed_names})."
            )
        if precomputed is not None and not isinstance(self.teacher, str):
            raise ValueError(
                "Teacher outputs were passed to fit but teacher is not 'precomputed'; set "
                "teacher='precomputed' to use them."
            )
        if isinstance(self.teacher, str) and self.transfer_set is not None:
            raise ValueError(
                "transfer_set needs a teacher that can label new rows; with "
                "teacher='precomputed' set transfer_set=None."
            )
        if isinstance(self.teacher, str) and self.teacher_cv is not None:
            raise ValueError(
                "teacher_cv refits the teacher on folds; with teacher='precomputed' there is "
                "no teacher to refit, so set teacher_cv=None."
            )

    def _validate_fit_data(self, X, y):
        """Check X and y as scikit-learn does; return float32 X, y and X for the teacher."""
        X_checked, y = validate_data(
            self,
            X,
            y,
            validate_separately=(
                {"dtype": (np.float64, np.float32)},
                {"ensure_2d": False, "dtype": None, "ensure_all_finite": self._y_finite},
            ),
        )
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it is raveled.",
                DataConversionWarning,
            )
            y = y.ravel()
        if y.ndim != 1:
            raise ValueError(f"y must be 1-dimensional; got shape {y.shape}.")
        if len(y) != X_checked.shape[0]:
            raise ValueError(
                f"X has {X_checked.shape[0]} rows but y has {len(y)}; they must match."
            )
        X_teacher = X if hasattr(X, "columns") else X_checked
        return _to_float32(X_checked), y, X_teacher

    def _fit_teacher_outputs(self, X_teacher, y, labelled, precomputed):
        """Set ``teacher_`` and return its outputs for every row (float32, 2-d)."""
        if precomputed is not None:
            self.teacher_ = None
            return self._precomputed_outputs(precomputed, len(y))
        classes = getattr(self, "classes_", None)
        if self._teacher_is_refit():
            self.teacher_, outputs = cached_call(
                self.memory, fit_and_score,
                self._task, self.teacher, X_teacher, y, labelled, classes, self.teacher_cv,
            )
        else:  # prefit: nothing to fit, cross-fit or cache
            self.teacher_, outputs = fit_and_score(
                self._task, self.teacher, X_teacher, y, labelled, classes, None
            )
        return self._scale_outputs(outputs)

    def _teacher_is_refit(self):
        return not (is_prefit(self.teacher) or isinstance(self.teacher, FrozenEstimator))

    def _add_transfer_set(self, X32, outputs, target, train_idx, seed):
        """Append synthetic rows sampled around the training rows (never the held-out ones)."""
        if self.transfer_set is None:
            return X32, outputs, target
        synthetic = self.transfer_set.generate(X32[train_idx], random_state=seed)
        raw = teacher_outputs(self._task, self.teacher_, synthetic, getattr(self, "classes_", None))
        synthetic_target = np.full(len(synthetic), self._unlabelled_target, dtype=target.dtype)
        return (
            np.concatenate([X32, synthetic]),
            np.concatenate([outputs, self._scale_outputs(raw)]),
            np.concatenate([target, synthetic_target]),
        )

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

    def _split_rows(self, labelled, target, seed):
        """Return (train, valid) row indices; only labelled real rows are held out."""
        rows = np.arange(len(labelled))
        labelled_rows = rows[labelled]
        if not self.validation_fraction:
            return rows, None
        n_valid = math.ceil(self.validation_fraction * len(labelled_rows))
        if n_valid >= len(labelled_rows):
            warnings.warn(
                f"Too few labelled rows ({len(labelled_rows)}) to hold out "
                f"validation_fraction={self.validation_fraction}; training without a "
                "validation split or early stopping.",
                UserWarning,
            )
            return rows, None
        stratify = target[labelled_rows] if self._task == "classifier" else None
        if stratify is not None:
            _, counts = np.unique(stratify, return_counts=True)
            n_train = len(labelled_rows) - n_valid
            if counts.min() < 2 or n_valid < len(counts) or n_train < len(counts):
                stratify = None
        _, valid = train_test_split(
            labelled_rows, test_size=n_valid, random_state=seed, stratify=stratify
        )
        valid = np.sort(valid)
        return np.setdiff1d(rows, valid), valid

    # ----------------------------------------------------------- the student
    def _check_device(self):
        device = torch.device(self.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device={self.device!r} but CUDA is not available on this machine; "
                "use device='cpu'."
            )
        return device

    def _make_net(self, module, seed, has_valid):
        callbacks = [("guard", TrainingGuard()), *self._callbacks()]
        if has_valid and self.n_iter_no_change:
            stopping = EarlyStopping(
                monitor="valid_loss", patience=self.n_iter_no_change, load_best=True
            )
            callbacks.append(("early_stopping", stopping))
        callbacks += copy.deepcopy(self.callbacks or [])
        routed = {
            f"{prefix}__{name}": value
            for prefix in ("iterator_train", "iterator_valid", "optimizer", "callbacks")
            for name, value in self._routed_params(prefix).items()
        }
        return DistillationNet(
            module=module,
            criterion=self._criterion(),
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
            **{"iterator_train__shuffle": True, "iterator_train__seed": seed, **routed},
        )

    def _train_student(self, X, outputs, target, train_idx, valid_idx, seed):
        """Fit (or, with warm_start, continue fitting) the student net and return it."""
        device = self._check_device()
        rows = DistillationDataset(
            torch.from_numpy(X), torch.from_numpy(outputs), torch.from_numpy(target)
        ).to(device)
        train = torch.utils.data.Subset(rows, train_idx)
        valid = None if valid_idx is None else torch.utils.data.Subset(rows, valid_idx)

        forked = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=forked):
            torch.manual_seed(seed)
            net = getattr(self, "student_", None) if self.warm_start else None
            if net is None:
                module = build_student(
                    self.student_module,
                    self._routed_params("module"),
                    X.shape[1],
                    outputs.shape[1],
                    self._task,
                )
                net = self._make_net(module, seed, has_valid=valid is not None)
                net.initialize()
            else:
                net.criterion = self._criterion()
                net.initialize_criterion()
                net.set_params(max_epochs=self.max_epochs, lr=self.lr, verbose=self.verbose)
            net.train_split = None if valid is None else predefined_split(valid)
            try:
                net.partial_fit(train)
            except InterruptedBeforeFirstEpoch:
                raise KeyboardInterrupt("fit interrupted before its first epoch completed") from None
            finally:
                net.train_split = None  # hold no data in the fitted model
        return net

    # ------------------------------------------------------------- inference
    def _validate_predict_data(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return _to_float32(X)

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
        out = torch.cat(outputs).numpy()
        finite = np.isfinite(out).reshape(len(out), -1).all(axis=1)
        if not finite.all():
            bad = np.flatnonzero(~finite)
            raise ValueError(
                f"The student's outputs are not finite for {len(bad)} of {len(out)} rows "
                f"(first: row {bad[0]}); their features lie far outside the range it was "
                f"trained on (largest |x| among them: {np.abs(X[bad]).max():.3g}). Scale or "
                "clip the inputs as in training."
            )
        return out

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
