"""The student network: the built-in MLP and how a user's module gets built.

A student is any ``torch.nn.Module`` mapping a float32 batch ``(n, n_features)``
to logits ``(n, n_classes)`` (a classifier) or predictions ``(n, 1)`` (a
regressor). Batches are dense tensors, also when ``X`` is sparse (each batch is
densified on its own), unless the module class sets ``accepts_sparse = True``:
then sparse rows arrive as a ``torch.sparse_coo_tensor``, as :class:`MLPStudent`
takes them. Given as a class, it is built at fit time; if its constructor takes
``n_features``, ``n_classes`` (classifiers) or ``n_outputs`` (the number of
output columns, both tasks) they come from the data, so one class serves every
data set. Its other arguments are set skorch-style, ``module__<name>=value``.
"""

import copy
import inspect
import numbers

import torch
from torch import nn

from ._conv import ConvStudent
from ._hooks import hooks_watch, hooks_watch_every_module

__all__ = ["MLPStudent", "build_student", "default_student", "student_reads_sparse"]


def student_reads_sparse(module):
    """True when the student module declares ``accepts_sparse = True``.

    Such a student receives sparse batches as ``torch.sparse_coo_tensor``;
    every other student receives dense float32 tensors, densified one batch
    at a time.
    """
    return bool(getattr(module, "accepts_sparse", False))


class MLPStudent(nn.Module):
    """A multi-layer perceptron: the default student.

    Parameters
    ----------
    n_features : int
        Width of the input.
    n_outputs : int
        Number of outputs: the classes' logits, or 1 for a regressor.
    hidden_layer_sizes : tuple of int, default=(64,)
        Width of each hidden layer, each at least 1 (an int: one layer); ``()``
        gives a linear (softmax regression) student.
    dropout : float, default=0.0
        Dropout probability after each hidden activation.

    See Also
    --------
    TabularStudent : Periodic embeddings of each feature before an MLP.
    ConvStudent : The student for images.
    DistilledClassifier : Builds it from the data by default.

    Notes
    -----
    ``accepts_sparse = True``: given a sparse batch (``torch.sparse_coo_tensor``,
    as the distillers pass rows of a scipy sparse ``X``), the first layer is a
    sparse-dense product, so a wide sparse input is never densified.

    Examples
    --------
    >>> import torch
    >>> net = MLPStudent(n_features=4, n_outputs=3, hidden_layer_sizes=(8,))
    >>> net(torch.zeros(5, 4)).shape
    torch.Size([5, 3])
    """

    accepts_sparse = True

    def __init__(self, n_features, n_outputs, hidden_layer_sizes=(64,), dropout=0.0):
        super().__init__()
        if isinstance(hidden_layer_sizes, numbers.Integral):  # one layer, as MLPClassifier
            hidden_layer_sizes = (hidden_layer_sizes,)
        hidden_layer_sizes = tuple(hidden_layer_sizes)
        if not all(isinstance(size, numbers.Integral) and size >= 1
                   for size in hidden_layer_sizes):
            raise ValueError(
                f"hidden_layer_sizes={hidden_layer_sizes!r} must hold whole numbers of at least "
                "1 (a layer of width 0 would let no input through); () gives a linear student."
            )
        layers = []
        width = n_features
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, n_outputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        """Return the logits of a batch (dense, or a sparse tensor).

        A dense batch of more than two axes (images, sequences) is read
        flattened: one row of ``n_features`` values per sample.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features) or (n_samples, ...)
            A dense batch, or a sparse COO tensor of rows.

        Returns
        -------
        logits : torch.Tensor of shape (n_samples, n_outputs)
            The outputs of the last layer.
        """
        if X.layout == torch.strided:
            return _through(self.layers, X if X.dim() == 2 else X.flatten(1))
        first = self.layers[0]
        hidden = torch.sparse.mm(X, first.weight.t()) + first.bias
        return self.layers[1:](hidden)


def _through(layers, X):
    """``layers(X)``, each layer's ``forward`` called directly (the same computation, without
    a module call's few microseconds each: most of the cost of a few rows' forward pass).

    Called as modules wherever that call runs more than ``forward``: a layer with a hook or a
    compiled call; every layer where ``layers`` has one, is not a plain ``Sequential``, a hook
    watches every module, or the pass is being compiled, exported or traced (which record each
    layer as a module of its own).
    """
    if (type(layers) is not nn.Sequential or _more_than_forward(layers)
            or hooks_watch_every_module() or torch.compiler.is_compiling()
            or torch.jit.is_tracing()):
        return layers(X)
    for layer in layers:
        X = layer(X) if _more_than_forward(layer) else layer.forward(X)
    return X


def _more_than_forward(module):
    """Whether calling ``module`` runs more than its ``forward``: a hook, or a compiled call
    (``module.compile()``)."""
    return hooks_watch(module) or getattr(module, "_compiled_call_impl", None) is not None


def default_student(input_shape=None):
    """The student class of ``student_module=None``: ConvStudent for images, else MLPStudent.

    Images are samples of shape ``(channels, height, width)``; rows and
    sequences get the MLP (a sequence read flattened).

    Examples
    --------
    >>> default_student((1, 8, 8)).__name__, default_student(None).__name__
    ('ConvStudent', 'MLPStudent')
    """
    if input_shape is not None and len(input_shape) == 3:
        return ConvStudent
    return MLPStudent


def _describe(student_module):
    if isinstance(student_module, type):
        return student_module.__name__
    return type(student_module).__name__


def build_student(
    student_module, module_params, n_features, n_outputs, task="classifier", sparse_input=False,
    input_shape=None,
):
    """Build the student ``nn.Module`` for data of the given shape and check its output.

    Parameters
    ----------
    student_module : None, nn.Module subclass or nn.Module instance
        ``None`` builds :func:`default_student`'s class. A class is instantiated with
        ``module_params`` plus ``n_features``, ``n_outputs``, ``input_shape``
        and (for a classifier) ``n_classes`` when its constructor takes them.
        An instance is deep-copied, so fitting never changes it.
    module_params : dict
        Constructor arguments (the ``module__`` parameters, prefix removed).
    n_features, n_outputs : int
    task : {"classifier", "regressor"}
    sparse_input : bool, default=False
        X is sparse: a student that declares ``accepts_sparse`` is also tried
        on a sparse batch.
    input_shape : tuple of int, default=None
        The shape of one sample: ``(channels, height, width)`` for images,
        ``(steps, features)`` for sequences; None for rows of ``n_features``.

    Returns
    -------
    module : nn.Module

    Examples
    --------
    >>> build_student(None, {"hidden_layer_sizes": (3,)}, n_features=2, n_outputs=2)
    MLPStudent(
      (layers): Sequential(
        (0): Linear(in_features=2, out_features=3, bias=True)
        (1): ReLU()
        (2): Linear(in_features=3, out_features=2, bias=True)
      )
    )
    """
    if student_module is None:
        student_module = default_student(input_shape)
    if isinstance(student_module, nn.Module):
        if module_params:
            raise ValueError(
                f"module__ parameters {sorted(module_params)} need student_module to be a "
                f"class; got an instance of {_describe(student_module)}. Pass the class."
            )
        module = copy.deepcopy(student_module)
    elif isinstance(student_module, type) and issubclass(student_module, nn.Module):
        kwargs = dict(module_params)
        try:
            accepted = inspect.signature(student_module).parameters
        except (TypeError, ValueError):
            accepted = {}
        shapes = {
            "n_features": n_features, "n_outputs": n_outputs,
            "input_shape": (n_features,) if input_shape is None else tuple(input_shape),
        }
        if task == "classifier":
            shapes["n_classes"] = n_outputs
        for name, value in shapes.items():
            if name in accepted:
                kwargs.setdefault(name, value)
        try:
            module = student_module(**kwargs)
        except Exception as exc:
            raise ValueError(
                f"The student_module {_describe(student_module)} could not be built with "
                f"arguments {kwargs}: {type(exc).__name__}: {exc}"
            ) from exc
    else:
        raise TypeError(
            "student_module must be None, a torch.nn.Module subclass or an instance of "
            f"one; got {student_module!r}."
        )
    if not any(p.requires_grad for p in module.parameters()):
        raise ValueError(
            f"The student_module {_describe(module)} has no trainable parameters; training "
            "would change nothing. Give it at least one layer with weights."
        )
    sample = (n_features,) if input_shape is None else tuple(input_shape)
    _check_output_shape(module, torch.zeros(2, *sample), n_outputs, task)
    if sparse_input and student_reads_sparse(module):
        _check_output_shape(module, torch.zeros(2, n_features).to_sparse(), n_outputs, task)
    return module


def _check_output_shape(module, batch, n_outputs, task):
    name = _describe(module)
    kind = "sparse batch" if batch.layout != torch.strided else "batch"
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = module(batch)
    except Exception as exc:
        dtypes = {p.dtype for p in module.parameters() if p.is_floating_point()}
        hint = (
            " It declares accepts_sparse = True; remove that to receive dense batches."
            if batch.layout != torch.strided else
            f" Its parameters are {sorted(map(str, dtypes))}, but the rows it reads are "
            "torch.float32: build it in float32 (no .double())."
            if dtypes - {torch.float32} else ""
        )
        raise ValueError(
            f"The student_module {name} fails on a {kind} of shape {tuple(batch.shape)}: "
            f"{type(exc).__name__}: {str(exc).rstrip('.')}." + hint
        ) from exc
    finally:
        module.train(was_training)
    if isinstance(out, torch.Tensor) and not out.is_floating_point():
        raise ValueError(
            f"The student_module {name} returns {out.dtype} outputs; they must be floating "
            "point (logits or predictions; no argmax or rounding inside forward)."
        )
    shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
    if task == "classifier" and shape != (2, n_outputs):
        raise ValueError(
            f"The student_module {name} must return logits of shape (n_samples, "
            f"{n_outputs}) for this data ({n_outputs} classes); on a batch of 2 rows it "
            f"returned {shape}."
        )
    if task == "regressor" and shape not in ((2,), (2, 1)):
        raise ValueError(
            f"The student_module {name} must return predictions of shape (n_samples,) or "
            f"(n_samples, 1); on a batch of 2 rows it returned {shape}."
        )
