"""skorch-style ``prefix__name`` parameters on a scikit-learn estimator.

Users of skorch already write ``module__hidden_layer_sizes=(32,)``,
``optimizer__weight_decay=1e-4`` or ``iterator_train__drop_last=True``. These
arrive as ``**kwargs``, are kept in one private dict, returned by ``get_params``
(so ``clone`` and ``GridSearchCV`` see them) and accepted by ``set_params``.
They are checked at fit time, like every other parameter.
"""

import difflib

__all__ = ["PrefixedParamsMixin", "ROUTED_PREFIXES"]

ROUTED_PREFIXES = ("module", "optimizer", "iterator_train", "iterator_valid", "callbacks", "loss")
"""Parameter prefixes routed to the student module, the skorch net or the soft loss."""


def _is_routed(name, prefixes=ROUTED_PREFIXES):
    return any(name.startswith(prefix + "__") for prefix in prefixes)


class PrefixedParamsMixin:
    """Store, list and set ``prefix__name`` keyword parameters; place before BaseEstimator.

    The concrete ``__init__`` passes its ``**kwargs`` to :meth:`_store_extra_params`.
    ``_routed_prefixes`` lists the prefixes the estimator consumes (a subset of
    :data:`ROUTED_PREFIXES`); any other keyword is refused at fit.
    """

    _routed_prefixes = ROUTED_PREFIXES

    def _store_extra_params(self, kwargs):
        self._extra_params = dict(kwargs)

    def get_params(self, deep=True):
        """Get parameters, the skorch-style ``prefix__name`` ones included."""
        params = super().get_params(deep=deep)
        params.update(self._extra_params)
        return params

    def set_params(self, **params):
        """Set parameters; names with a routed prefix (``module__*``, ``optimizer__*``,
        ``iterator_train__*``, ``iterator_valid__*``, ``callbacks__*``, ``loss__*``) are
        accepted as new names."""
        routed = {name: value for name, value in params.items() if _is_routed(name)}
        self._extra_params = {**self._extra_params, **routed}  # a new dict: copies keep theirs
        rest = {name: value for name, value in params.items() if name not in routed}
        if rest:
            super().set_params(**rest)
        return self

    def _routed_params(self, prefix):
        """Return the ``prefix__*`` parameters with the prefix removed."""
        head = prefix + "__"
        return {
            name[len(head):]: value
            for name, value in self._extra_params.items()
            if name.startswith(head)
        }

    def _check_extra_params(self):
        """Raise TypeError for a keyword parameter that is neither explicit nor routed."""
        prefixes = self._routed_prefixes
        unknown = sorted(name for name in self._extra_params if not _is_routed(name, prefixes))
        if not unknown:
            return
        known = list(self._get_param_names()) + [p + "__" for p in prefixes]
        hints = []
        for name in unknown:
            guess = _suggest(name, known, prefixes)
            hints.append(f"{name!r}" + (f" (did you mean {guess!r}?)" if guess else ""))
        raise TypeError(
            f"{type(self).__name__} got unexpected parameter(s) {', '.join(hints)}; nothing in "
            f"it would use them. Its parameters are {sorted(self._get_param_names())}, plus "
            f"skorch-style {', '.join(p + '__<name>' for p in prefixes)}."
        )


def _suggest(name, known, prefixes=ROUTED_PREFIXES):
    for prefix in prefixes:
        if name.startswith(prefix + "_") and not name.startswith(prefix + "__"):
            return prefix + "__" + name[len(prefix):].lstrip("_")
    for prefix, names in _ROUTED_NAMES.items():
        if prefix in prefixes and name in names:  # a student's or optimizer's own parameter
            return f"{prefix}__{name}"
    close = difflib.get_close_matches(name, known, n=1)
    return close[0] if close else None


_ROUTED_NAMES = {
    "module": ("hidden_layer_sizes", "dropout", "n_frequencies", "embedding_dim", "sigma",
               "channels"),
    "optimizer": ("weight_decay", "betas", "eps", "momentum", "nesterov", "amsgrad"),
}
"""Parameters of the built-in students and of torch's common optimizers, which the
estimator takes routed (``module__dropout``): given bare, the error suggests the routed name."""
