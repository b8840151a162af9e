"""The student stage of a fit: building its skorch net, training it, pruning it.

:func:`train_student` turns the distiller's parameters into a
:class:`~skdistill.training._net.DistillationNet` (new, or a copy of the
fitted one on a warm start), trains it on in-memory rows and streamed chunks,
prunes it (:mod:`._pruned`), and returns the fitted attributes it determines. Student training
holds a process-wide lock (:data:`~skdistill.training._net.STUDENT_TRAINING`):
torch's random generator
is global, so two fits in threads of one process would draw from each other's
stream; one at a time, each seeded fit reproduces.
"""

import contextlib
import copy
import inspect
import operator

import numpy as np
import scipy.sparse as sp
import torch
from skorch.callbacks import Callback, PassthroughScoring
from skorch.helper import predefined_split

from ..losses._features import FeatureMatcher
from ..students._mlp import build_student, default_student, student_reads_sparse
from ..training._callbacks import TrainingGuard
from ..training._early_stopping import (
    early_stopping_callback,
    monitored_loss,
    score_the_average,
    still_improving,
)
from ..training._data import DistillationDataset, TensorBatchLoader
from ..training._net import (
    STUDENT_TRAINING,
    DistillationNet,
    InterruptedBeforeFirstEpoch,
)
from ..training._optimizer import build_optimizer
from ..training._solver import choose_solver, numpy_obstacle
from ..training._stream import StreamedRows
from ._pruned import prune_student, unpruned_widths
from ._shaped_input import sample_shape

__all__ = [
    "AUTO_BATCH_ROWS", "UNCONVERGED", "auto_batch_size", "build_module", "check_device",
    "engine_for", "feature_obstacle", "initialized", "make_net", "optimizer_for",
    "restores_best_epoch", "train_student",
]

UNCONVERGED = "unconverged"
"""The key of :func:`train_student`'s result holding its ConvergenceWarning message (None where
the student converged): the fit warns once, of the student it keeps, not of every candidate."""

AUTO_BATCH_ROWS = (32, 256)
"""Smallest and largest batch of ``batch_size="auto"``."""

BATCHNORM = (
    torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d, torch.nn.SyncBatchNorm,
    torch.nn.LazyBatchNorm1d, torch.nn.LazyBatchNorm2d, torch.nn.LazyBatchNorm3d,
)
"""The layers that cannot train on a batch of one row."""


def auto_batch_size(batch_size, n_train):
    """Rows per training batch: ``batch_size``, or for ``"auto"`` n_train / 16 within [32, 256].

    256 rows per step fit thousands of rows about three times faster than
    64 at the same accuracy (``benchmarks/defaults.py``); on a few hundred
    rows such batches would leave one or two steps per epoch, so smaller
    sets get at least 16 steps (batches of at least 32 rows).

    Examples
    --------
    >>> auto_batch_size("auto", 100), auto_batch_size("auto", 10_000), auto_batch_size(8, 100)
    (32, 256, 8)
    """
    if batch_size == "auto":
        return int(min(AUTO_BATCH_ROWS[1], max(AUTO_BATCH_ROWS[0], n_train // 16)))
    return batch_size


def check_device(params):
    """The distiller's ``device`` as a torch device, or a ValueError that says what to use."""
    try:
        device = torch.device(params.device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={params.device!r} is not a torch device ({exc}); use e.g. 'cpu' or 'cuda'."
        ) from None
    available = {"cuda": ("CUDA", torch.cuda.is_available),
                 "mps": ("MPS", torch.backends.mps.is_available)}.get(device.type)
    if available is not None and not available[1]():
        raise ValueError(
            f"device={params.device!r} but {available[0]} is not available on this machine; "
            "use device='cpu'."
        )
    # "cpu:0" is the CPU: torch pickles tensors tagged "cpu:0" but cannot load them again
    return torch.device("cpu") if device.type == "cpu" else device


def make_net(params, task, module, seed, has_valid, race=None):
    """The skorch net that trains ``module`` as the distiller's parameters say (not initialised).

    ``race``: a callback that stops the student once it trails another
    (:class:`~skdistill.training._early_stopping.StopWhenBehind`), or None.
    """
    callbacks = [("guard", TrainingGuard()), *task.callbacks()]
    if params.feature_distillation is not None:  # the feature term's mean, each epoch
        callbacks.append(
            ("train_feature_loss", PassthroughScoring("train_feature_loss", on_train=True))
        )
    if has_valid and params.n_iter_no_change:
        callbacks.append(("early_stopping", early_stopping_callback(
            task.loss_settings, params.n_iter_no_change
        )))
    if race is not None:
        callbacks.append(("race", race))
    callbacks += [_checked_callback(c) for c in copy.deepcopy(params.callbacks or [])]
    routed = {
        f"{prefix}__{name}": value
        for prefix in ("iterator_train", "iterator_valid", "optimizer", "callbacks")
        for name, value in params._routed_params(prefix).items()
    }
    return DistillationNet(
        module=module,
        criterion=task.criterion(),
        loss_settings=task.loss_settings,
        classes=np.arange(len(task.classes)) if task.loss_settings.classifies else None,
        optimizer=params.optimizer,
        lr=params.lr,
        max_epochs=params.max_epochs,
        batch_size=params.batch_size,
        iterator_train=TensorBatchLoader,
        iterator_valid=TensorBatchLoader,
        train_split=None,
        callbacks=callbacks,
        verbose=params.verbose,
        device=str(check_device(params)),
        **{
            "iterator_train__shuffle": True,
            "iterator_train__seed": seed,
            **fused_optimizer(params),
            **routed,
        },
    )


def student_spec(params, task, data):
    """What the student is built from: a warm start must find it unchanged."""
    built = params.student_module
    if built is None:
        built = default_student(data.get("input_shape_"))
    defaults = {}
    if isinstance(built, type):  # the constructor's defaults: leaving one out changes nothing
        signature = inspect.signature(built).parameters.values()
        defaults = {p.name: p.default for p in signature if p.default is not p.empty}
    return {
        "student_module": params.student_module,
        "module parameters": {**defaults, **params._routed_params("module")},
        "input shape": sample_shape(data),
        "outputs": task.n_outputs,
    }


def build_module(params, task, data, module_params, sparse_input=False):
    """A new student module; ``module_params`` override the ``module__*`` parameters.

    ``data``: the fitted attributes that describe the student's rows.
    """
    return build_student(
        params.student_module, {**params._routed_params("module"), **module_params},
        data["n_student_features_"], task.n_outputs, task.name, sparse_input=sparse_input,
        input_shape=data.get("input_shape_"),
    )


def optimizer_for(params, parameters):
    """The optimizer ``fit`` would build over ``parameters`` (lr, ``optimizer__*``, fused)."""
    settings = {
        **{k.removeprefix("optimizer__"): v for k, v in fused_optimizer(params).items()},
        **params._routed_params("optimizer"),
    }
    return build_optimizer(params.optimizer, parameters, lr=params.lr, **settings)


def fused_optimizer(params):
    """``{"optimizer__fused": True}`` for Adam or AdamW on a CPU or GPU, else ``{}``.

    The fused update is one kernel for all parameters instead of a dozen
    operations per tensor: on a small student it halves the step's cost.
    A user's ``optimizer__fused`` or ``optimizer__foreach`` wins.
    """
    chosen = params._routed_params("optimizer")
    if (
        params.optimizer in (torch.optim.Adam, torch.optim.AdamW)
        and not {"fused", "foreach"} & chosen.keys()
        and torch.device(params.device).type in ("cpu", "cuda")
    ):
        return {"optimizer__fused": True}
    return {}


def initialized(params, net):
    """``net.initialize()``, its failures told as the setting to change."""
    try:
        return net.initialize()
    except (TypeError, ValueError) as exc:
        if hasattr(net, "criterion_") and not hasattr(net, "optimizer_"):
            settings = {"lr": params.lr, **params._routed_params("optimizer")}
            raise ValueError(
                f"The optimizer {getattr(params.optimizer, '__name__', params.optimizer)} "
                f"rejects the settings {settings}: {exc} Change optimizer__<name> or lr."
            ) from exc
        raise ValueError(f"The student's skorch net cannot be set up: {exc}") from exc


def _student_net(params, task, data, seed, has_valid, sparse_input, previous, race):
    """A new net holding a new student, or -- with ``previous`` -- a copy of the fitted one.

    A warm start (``previous``: the fitted net it continues) takes the current
    settings (batch size, optimizer and its parameters, callbacks, early
    stopping, iterator parameters) into a new net and carries over a copy of
    the weights, the history, the widths before any pruning and, when the
    optimizer class is the same, its state (with the current hyperparameters).
    The fitted net is never changed, so a failed warm fit leaves the model
    exactly as it was.
    """
    spec = student_spec(params, task, data)
    if previous is None:
        module = build_module(params, task, data, {}, sparse_input)
        net = initialized(params, make_net(params, task, module, seed, has_valid, race))
        net.student_spec_ = spec
        return net
    _check_warm_spec(getattr(previous, "student_spec_", spec), spec)
    module = copy.deepcopy(previous.module_)
    task.continue_student(module)
    net = initialized(params, make_net(params, task, module, seed, has_valid, race))
    net.student_spec_ = spec
    net.history = copy.deepcopy(previous.history)
    net.unpruned_ = getattr(previous, "unpruned_", None)  # the widths pruning cuts from
    if type(net.optimizer_) is type(previous.optimizer_):
        state = copy.deepcopy(previous.optimizer_.state_dict())
        state["param_groups"] = net.optimizer_.state_dict()["param_groups"]
        net.optimizer_.load_state_dict(state)
    return net


def _check_training_steps(params, module, n_train, batch_size):
    """Refuse settings that leave no training step, or a step BatchNorm cannot take."""
    drop_last = params._routed_params("iterator_train").get("drop_last", False)
    if drop_last and batch_size > n_train:
        raise ValueError(
            f"iterator_train__drop_last=True with batch_size={batch_size} above the "
            f"{n_train} training rows leaves no training step. Lower batch_size or set "
            "iterator_train__drop_last=False."
        )
    last_batch = n_train % batch_size
    has_batchnorm = any(isinstance(m, BATCHNORM) for m in module.modules())
    if has_batchnorm and not drop_last and (last_batch == 1 or n_train == 1):
        raise ValueError(
            f"The student_module {type(module).__name__} has BatchNorm layers, and with "
            f"{n_train} training rows and batch_size={batch_size} its last training "
            "batch would hold one row, on which BatchNorm cannot train. Set "
            "iterator_train__drop_last=True or another batch_size."
        )


def train_student(params, task, data, rows, train_idx, valid_idx, seed, chunks=(),
                  valid_chunks=(), previous=None, race=None):
    """Train a student net (or, on a warm start, continue ``previous``); its fitted attributes.

    ``data``: the fitted attributes that describe the rows (and ``teacher_``,
    which feature distillation reads). ``rows``: the in-memory ``(X,
    outputs, target, weights)`` (or None), of which ``train_idx`` train and
    ``valid_idx`` validate. ``chunks`` and ``valid_chunks`` are streamed (see
    :class:`StreamedRows`); the training chunks are mixed with the in-memory
    training rows. ``race``: see :func:`make_net`. Returns ``{"student_":
    net, "solver_": ...}`` and, with ``pruning``, ``"pruning_"``.
    """
    device = check_device(params)
    forked = [device] if device.type == "cuda" else []
    sparse_input = rows is not None and sp.issparse(rows[0])
    has_valid = valid_idx is not None or bool(valid_chunks)
    with STUDENT_TRAINING, torch.random.fork_rng(devices=forked):
        torch.manual_seed(seed)
        net = _student_net(params, task, data, seed, has_valid, sparse_input, previous, race)
        as_sparse = student_reads_sparse(net.module_)
        train, valid = _datasets(
            rows, train_idx, valid_idx, chunks, valid_chunks, device, as_sparse
        )
        obstacle = numpy_obstacle(
            net.module_, task.loss_settings, net.optimizer_, sparse_input and as_sparse
        ) or feature_obstacle(params)
        solver = net.solver = choose_solver(params.solver, obstacle)
        net.batch_size = auto_batch_size(params.batch_size, len(train))
        _check_training_steps(params, net.module_, len(train), net.batch_size)
        if params.pruning is not None:  # what cannot be pruned: say so before training
            params.pruning.widths(unpruned_widths(net), params.pruning.steps)
        net.train_split = None if valid is None else predefined_split(valid)
        epochs_before = len(net.history)
        net.interrupted_ = False
        trained = {"student_": net, "solver_": solver, UNCONVERGED: None}
        try:
            with _feature_term(params, data, net, train):
                net.partial_fit(train)
            if not net.interrupted_:  # Ctrl-C: keep what was trained, run nothing more
                score_the_average(net, valid)
                trained[UNCONVERGED] = _unconverged(params, net, len(net.history) - epochs_before)
                if params.pruning is not None:
                    trained["pruning_"] = prune_student(params, data, net, train, valid)
        except InterruptedBeforeFirstEpoch:
            message = "fit interrupted before its first epoch completed"
            raise KeyboardInterrupt(message) from None
        finally:
            net.train_split = None  # hold no data in the fitted model
            for epoch in net.history:  # keep one batch record per epoch (skorch's
                del epoch.get("batches", [])[:-1]  # last_batch): not rows / batch_size
    return trained


def restores_best_epoch(params):
    """Whether a student trained with ``params`` keeps the weights of its best held-out epoch
    (or their mean from it on): early stopping restores them, unless pruning then trains on.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> restores_best_epoch(SimpleNamespace(n_iter_no_change=10, pruning=None))
    True
    >>> restores_best_epoch(SimpleNamespace(n_iter_no_change=None, pruning=None))
    False
    """
    return bool(params.n_iter_no_change) and params.pruning is None


def engine_for(params, task, net, sparse_input):
    """The engine a fit of ``params`` runs for the initialised ``net`` (``"numpy"`` or
    ``"torch"``), as :func:`train_student` chooses it -- but never an error: a student given
    to ``with_student`` was trained elsewhere, and ``solver="numpy"`` where it cannot apply
    names ``"torch"``, the engine a warm start would then need."""
    obstacle = numpy_obstacle(
        net.module_, task.loss_settings, net.optimizer_,
        sparse_input and student_reads_sparse(net.module_),
    ) or feature_obstacle(params)
    return choose_solver("torch" if params.solver == "torch" else "auto", obstacle)


def feature_obstacle(params):
    """Why the numpy engine cannot train with ``feature_distillation`` (None without it)."""
    if params.feature_distillation is None:
        return None
    return "feature_distillation (its term trains through autograd)"


@contextlib.contextmanager
def _feature_term(params, data, net, train):
    """With ``feature_distillation``: the feature term in the net's loss while training.

    Hooks on both networks and the hint projections (trained by the same
    optimizer, in a parameter group of their own) live for this block only:
    afterwards the student is a plain module again and the optimizer holds
    its own parameters alone.
    """
    if params.feature_distillation is None:
        yield
        return
    teacher = _teacher_module(data.get("teacher_"))
    if data.get("student_preprocessor_") is not None:
        raise ValueError(
            "feature_distillation compares the teacher's and the student's layers on the "
            "same input, but the student reads its own encoding of X "
            f"({type(data['student_preprocessor_']).__name__}). Set "
            "student_preprocessor=None (images and sequences are read as given)."
        )
    example = next(iter(TensorBatchLoader(train, 2)))[0]["X"]
    example = example if isinstance(example, torch.Tensor) else torch.as_tensor(example)
    matcher = FeatureMatcher(
        params.feature_distillation, teacher, net.module_, example.to(net.device)
    )
    projections = list(matcher.projections.parameters())
    try:
        if projections:
            net.optimizer_.add_param_group({"params": projections})
        vars(net)["feature_matcher"] = matcher  # skorch refuses to be given modules else
        yield
    finally:
        matcher.remove()
        vars(net).pop("feature_matcher", None)
        added = net.optimizer_.param_groups[-1]["params"]
        if projections and len(added) == len(projections) and all(
            map(operator.is_, added, projections)
        ):
            net.optimizer_.param_groups.pop()
            for parameter in projections:
                net.optimizer_.state.pop(parameter, None)


def _unconverged(params, net, epochs_run):
    """The ConvergenceWarning message where max_epochs ended a fit whose monitored loss was
    still falling, else None."""
    if epochs_run < params.max_epochs:
        return None  # stopped early, or interrupted
    history = net.history[-epochs_run:]
    key = monitored_loss(net.loss_settings)
    key = key if key in history[-1] else "train_loss"
    losses = [row[key] for row in history]
    if not still_improving(losses, params.n_iter_no_change or 10):
        return None
    return (f"max_epochs={params.max_epochs} ended the fit while {key} was still improving "
            f"(best in epoch {int(np.argmin(losses)) + 1} of {len(losses)}). Raise "
            "max_epochs or lr, or fit again with warm_start=True.")


def _teacher_module(teacher):
    """The torch module of a fitted teacher (a module, or a skorch net's), else ValueError."""
    module = getattr(teacher, "module_", teacher)
    if not isinstance(module, torch.nn.Module):
        what = "given as outputs" if teacher is None else f"a {type(teacher).__name__}"
        raise ValueError(
            "feature_distillation reads the teacher's intermediate layers, so the teacher must "
            f"be a torch module or a fitted skorch net; it is {what}."
        )
    return module


def _checked_callback(entry):
    """A ``callbacks`` entry as skorch takes it, or a TypeError naming the entry."""
    callback = entry[1] if isinstance(entry, tuple) and len(entry) == 2 else entry
    named = not isinstance(entry, tuple) or isinstance(entry[0], str)
    is_callback = isinstance(callback, Callback) or (
        isinstance(callback, type) and issubclass(callback, Callback)
    )
    if not (named and is_callback):
        raise TypeError(
            f"callbacks holds {entry!r}; each entry must be a skorch callback (an instance of, "
            "or a subclass of, skorch.callbacks.Callback) or a (name, callback) tuple."
        )
    return entry


def _check_warm_spec(fitted, now):
    """ValueError naming what changed since the student a warm start continues was built."""
    changed = [
        name for name in now
        if not (fitted.get(name) is now[name] or _equal(fitted.get(name), now[name]))
    ]  # a name the fitted spec lacks (a model of an older version) counts as changed
    if changed:
        details = "; ".join(
            f"{name}: {fitted.get(name, 'not recorded')!r} then, {now[name]!r} now"
            for name in changed
        )
        raise ValueError(
            f"warm_start=True continues the fitted student, but its {', '.join(changed)} changed "
            f"({details}). Set warm_start=False to train a new student."
        )


def _equal(a, b):
    try:
        return bool(a == b)
    except Exception:  # objects that cannot be compared are not the same
        return False


def _datasets(rows, train_idx, valid_idx, chunks, valid_chunks, device, as_sparse):
    """The training and validation datasets (the latter None without validation)."""
    resident = None
    if rows is not None:  # one set of arrays, read by both parts through their indices
        resident = DistillationDataset.from_arrays(*rows, sparse_as_tensor=as_sparse).to(device)
    if chunks:
        own = None if resident is None else resident.subset(train_idx)
        train = StreamedRows(chunks, own, device, as_sparse)
    else:
        train = resident.subset(train_idx)
    if valid_chunks:
        valid = StreamedRows(valid_chunks, None, device, as_sparse)
    elif valid_idx is not None:
        valid = resident.subset(valid_idx)
    else:
        valid = None
    return train, valid
