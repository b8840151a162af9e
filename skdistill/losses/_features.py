"""Distilling what the teacher has inside: hints and attention transfer on named layers.

:class:`FeatureDistillation` is the distillers' ``feature_distillation``
parameter: pairs of a teacher layer and a student layer (names as in
``named_modules()``), whose outputs the student learns to match, beside the
logit terms. :class:`FeatureMatcher` does it during one fit: forward hooks
capture both layers' outputs, and each training batch adds ``weight`` times
the feature term to the distillation loss.

* ``"hint"`` (FitNets, Romero et al., 2015): the squared error between the
  teacher's feature map and the student's, mapped to the teacher's width by a
  learned projection (a 1x1 convolution for images, a linear map otherwise),
  trained with the student and dropped after ``fit``.
* ``"attention"`` (attention transfer, Zagoruyko and Komodakis, 2017): the
  squared error between where each network's features are large: the mean
  over channels of the squared activations, L2-normalised over positions.
  No projection: maps of any number of channels compare; row features
  (``(n, F)``, no positions) keep one value per feature, so theirs must have
  the same width.

Where the two maps differ in size (height and width of images, steps of
sequences), the larger is average-pooled to the smaller's. The hooks are
removed after ``fit``: the fitted student pickles and exports as a plain module.
"""

from numbers import Real

import torch
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn
from torch.nn import functional as F

__all__ = ["FeatureDistillation", "FeatureMatcher"]


class FeatureDistillation(BaseEstimator):
    """Match the student's intermediate features to a torch teacher's.

    Pass it as ``feature_distillation`` to :class:`~skdistill.DistilledClassifier`
    or :class:`~skdistill.DistilledRegressor`; ``GridSearchCV`` searches its
    parameters as ``feature_distillation__weight`` and ``feature_distillation__kind``.

    Parameters
    ----------
    layers : list of (str, str)
        Pairs ``(teacher layer, student layer)``, named as in each module's
        ``named_modules()`` (e.g. ``("features.4", "features.2")``).
    kind : {"hint", "attention"}, default="hint"
        ``"hint"``: squared error after a learned projection of the student's
        features (FitNets); ``"attention"``: squared error between the
        normalised attention maps (attention transfer).
    weight : float >= 0, default=1.0
        The feature term's weight beside the logit terms (summed over pairs).
        Attention maps are normalised, so their term is small: weights of
        100 to 1000 are usual there.

    See Also
    --------
    DistilledClassifier : Takes it as ``feature_distillation``.
    ConvStudent : A student whose blocks can be matched.

    Notes
    -----
    Needs a teacher that is a torch module (or a fitted skorch net) and a
    student that reads ``X`` as the teacher does (images and sequences, or
    ``student_preprocessor=None``). Features are read as image maps
    ``(n, channels, height, width)``, rows ``(n, features)`` or sequences
    ``(n, steps, features)`` (as batch-first RNNs and transformers give
    them): a ``Conv1d`` map ``(n, channels, steps)`` must be transposed.
    Each training batch runs the teacher once more, to read its features, so
    an epoch costs several logit-only epochs. The numpy engine does not
    apply. A warm start trains a new projection.

    Conventions that differ from torchdistill's: ``alpha`` (the distiller's)
    weighs the teacher's term, not the labels'; the hint is a mean, not a sum,
    of squared errors; the projection is a plain learned 1x1 convolution (no
    batch normalisation or ReLU); the hint trains with the logits from the
    first epoch (a warm start without ``feature_distillation`` gives a second
    stage); one ``weight`` serves every pair; attention follows the authors'
    code (torchdistill's ``mode="code"``).

    References
    ----------
    .. [1] A. Romero, N. Ballas, S. E. Kahou, A. Chassang, C. Gatta, Y. Bengio. "FitNets:
       Hints for Thin Deep Nets". ICLR 2015.
    .. [2] S. Zagoruyko, N. Komodakis. "Paying More Attention to Attention". ICLR 2017.

    Examples
    --------
    >>> FeatureDistillation([("features.3", "features.3")], kind="attention", weight=100.0)
    FeatureDistillation(kind='attention', layers=[('features.3', 'features.3')],
                        weight=100.0)
    """

    _parameter_constraints = {
        "layers": [list, tuple],
        "kind": [StrOptions({"hint", "attention"})],
        "weight": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, layers, kind="hint", weight=1.0):
        self.layers = layers
        self.kind = kind
        self.weight = weight

    def pairs(self):
        """The ``(teacher layer, student layer)`` pairs, checked.

        Returns
        -------
        pairs : list of tuple of str
            The layer names, a ValueError if ``layers`` is malformed.
        """
        self._validate_params()
        pairs = [tuple(pair) for pair in self.layers]
        if not pairs or any(
            len(pair) != 2 or not all(isinstance(name, str) for name in pair) for pair in pairs
        ):
            raise ValueError(
                f"FeatureDistillation(layers={self.layers!r}) must list pairs of layer "
                "names (teacher layer, student layer), e.g. [('features.3', 'features.2')]."
            )
        return pairs


class FeatureMatcher(nn.Module):
    """One fit's feature term: hooks on both networks and (for hints) the projections.

    Parameters
    ----------
    config : FeatureDistillation
    teacher, student : torch.nn.Module
    example : torch.Tensor
        A batch of a few training rows, on the student's device: read once
        to learn the features' shapes.
    """

    def __init__(self, config, teacher, student, example):
        super().__init__()
        self.kind, self.weight = config.kind, float(config.weight)
        self.pairs = config.pairs()
        self.__dict__["teacher"] = teacher  # read, never trained: not a submodule
        self._teacher_layers = _layers(teacher, [t for t, _ in self.pairs], "teacher")
        student_layers = _layers(student, [s for _, s in self.pairs], "student")
        self._captured = {}
        self._hooks = [
            layer.register_forward_hook(self._capture(at))
            for at, layer in enumerate(student_layers)
        ]
        try:
            with torch.no_grad():
                was_training = student.training
                student.eval()
                student(example)
                student.train(was_training)
                shapes = [tuple(self._captured[at].shape) for at in range(len(self.pairs))]
                targets = [tuple(f.shape) for f in self.teacher_features(example)]
            self.projections = nn.ModuleList(
                _projection(s, t) if self.kind == "hint" else nn.Identity()
                for s, t in zip(shapes, targets)
            ).to(example.device)
        except BaseException:
            self.remove()
            raise
        self._captured = {}

    def _capture(self, at):
        def hook(module, inputs, output):
            self._captured[at] = _first_tensor(output)

        return hook

    def teacher_features(self, X):
        """The teacher's features at its layers for a batch (no gradient, eval mode).

        ``X`` is sent to the teacher's device and floating dtype (the teacher
        stays where it is); the features come back on ``X``'s device and dtype.
        """
        parameter = next(self.teacher.parameters(), None)
        inputs = X
        if parameter is not None:
            dtype = parameter.dtype if parameter.is_floating_point() else X.dtype
            inputs = X.to(device=parameter.device, dtype=dtype)
        found = {}
        hooks = [
            layer.register_forward_hook(
                lambda m, i, out, at=at: found.__setitem__(at, _first_tensor(out))
            )
            for at, layer in enumerate(self._teacher_layers)
        ]
        was_training = self.teacher.training
        self.teacher.eval()
        try:
            with torch.no_grad():
                self.teacher(inputs)
        finally:
            self.teacher.train(was_training)
            for hook in hooks:
                hook.remove()
        return [found[at].to(device=X.device, dtype=X.dtype) for at in range(len(self.pairs))]

    def loss(self, X):
        """The weighted feature term of the batch ``X`` the student has just read."""
        if len(self._captured) != len(self.pairs):
            raise RuntimeError("the student's layers were not run on this batch")
        student = [self._captured[at] for at in range(len(self.pairs))]
        self._captured = {}
        total = 0.0
        for project, mine, theirs in zip(self.projections, student, self.teacher_features(X)):
            mine, theirs = _same_size(project(mine), theirs.to(mine.dtype))
            if self.kind == "attention":
                mine, theirs = _attention(mine), _attention(theirs)
            if mine.shape != theirs.shape:
                raise ValueError(
                    f"FeatureDistillation cannot compare a student feature of shape "
                    f"{tuple(mine.shape[1:])} with a teacher feature of shape "
                    f"{tuple(theirs.shape[1:])}."
                )
            total = total + F.mse_loss(mine, theirs)
        return self.weight * total

    def remove(self):
        """Remove the student's hooks (the teacher's live only inside each call)."""
        for hook in self._hooks:
            hook.remove()
        self._hooks = []
        self._captured = {}


def _first_tensor(output):
    """A layer's output, or the first of a tuple (an RNN's outputs, before its state)."""
    return output[0] if isinstance(output, (tuple, list)) else output


def _layers(module, names, whose):
    named = dict(module.named_modules())
    missing = [name for name in names if name not in named or not name]
    if missing:
        available = [name for name in named if name][:20]
        raise ValueError(
            f"FeatureDistillation names {missing} in the {whose} {type(module).__name__}, "
            f"which has no such layer; its layers are {available}."
        )
    return [named[name] for name in names]


def _projection(student_shape, teacher_shape):
    """A learned map from the student's channels to the teacher's.

    Feature maps of images ``(n, channels, height, width)`` by a 1x1
    convolution; rows ``(n, features)`` and sequences ``(n, steps, features)``
    by a linear map of their last axis.
    """
    if len(student_shape) != len(teacher_shape) or len(student_shape) not in (2, 3, 4):
        raise ValueError(
            f"FeatureDistillation pairs a student feature of shape {student_shape[1:]} with a "
            f"teacher feature of shape {teacher_shape[1:]}: they must have as many axes "
            "(rows, sequences or image feature maps)."
        )
    if len(student_shape) == 4:
        return nn.Conv2d(student_shape[1], teacher_shape[1], kernel_size=1)
    return nn.Linear(student_shape[-1], teacher_shape[-1])


def _attention(features):
    """Where the features are large: the mean of their squares over channels, L2-normalised.

    Channels are axis 1 of image feature maps and the last axis of sequences;
    rows keep one value per feature.
    """
    if features.dim() == 4:
        maps = features.pow(2).mean(dim=1)
    elif features.dim() == 3:
        maps = features.pow(2).mean(dim=2)
    else:
        maps = features.pow(2)
    return F.normalize(maps.flatten(1), dim=1).reshape(maps.shape)


def _same_size(a, b):
    """Two features pooled to the smaller one's positions (their channels untouched).

    Image feature maps ``(n, C, H, W)`` pool height and width, sequences
    ``(n, T, F)`` their steps; rows ``(n, F)`` have no positions.
    """
    if a.dim() == 4 and a.shape[2:] != b.shape[2:]:
        size = [min(x, y) for x, y in zip(a.shape[2:], b.shape[2:])]
        return F.adaptive_avg_pool2d(a, size), F.adaptive_avg_pool2d(b, size)
    if a.dim() == 3 and a.shape[1] != b.shape[1]:
        steps = min(a.shape[1], b.shape[1])

        def pooled(x):
            return F.adaptive_avg_pool1d(x.transpose(1, 2), steps).transpose(1, 2)

        return pooled(a), pooled(b)
    return a, b
