"""Notes added to the error of a teacher's failed ``fit``: which teacher, and what in X it was.

scikit-learn's own messages name neither the teacher (the error surfaces from
the distiller's ``fit``) nor, for strings or missing values, the columns.
:func:`add_fit_notes` adds what applies; the error itself is raised unchanged.
"""

from ..students._column_reading import missing_columns

__all__ = ["add_fit_notes"]

SHOWN_COLUMNS = 10
"""Most column names a note lists."""

NO_VALIDATION_SET = (
    "validation dataset for early stopping",  # XGBoost
    "For early stopping, at least one dataset",  # LightGBM
)
"""What a booster's fit says when its early stopping finds no validation set."""


def add_fit_notes(exc, X, name):
    """Add to ``exc`` (raised by teacher ``name``'s fit on ``X``) the notes that apply.

    Examples
    --------
    >>> import pandas as pd
    >>> exc = ValueError("Input X contains NaN.")
    >>> add_fit_notes(exc, pd.DataFrame({"a": [1.0, None], "b": [1.0, 2.0]}), "LogisticRegression")
    >>> exc.__notes__[1][:58]
    "X's columns ['a'] hold missing values, which the teacher L"
    """
    exc.add_note(f"(raised while fitting the teacher {name})")
    message = str(exc)
    if "read-only" in message:
        exc.add_note(
            "The teacher is given a read-only view of X, so that fitting never changes "
            "the caller's data; a teacher that writes into its input must copy it first."
        )
    if "NaN" in message or "missing values" in message:
        try:
            missing = missing_columns(X)
        except (TypeError, ValueError, AttributeError):  # only a note: never raise here
            missing = []
        if missing:
            exc.add_note(
                f"X's columns {_shown(missing)} hold missing values, which the teacher {name} "
                "cannot read: impute them in a Pipeline before it (SimpleImputer), or distil "
                "a teacher that reads them (e.g. HistGradientBoostingClassifier)."
            )
    if any(text in message for text in NO_VALIDATION_SET):
        exc.add_note(
            "The distiller fits the teacher on X and y alone, so early stopping that needs a "
            "validation set (XGBoost's early_stopping_rounds, LightGBM's early_stopping_round) "
            "finds none: fit the teacher yourself with its eval_set and pass "
            "sklearn.frozen.FrozenEstimator(teacher), or turn its early stopping off."
        )
    strings = _string_columns(X)
    if strings:
        exc.add_note(
            f"X's columns {_shown(strings)} hold strings. LightGBM, XGBoost (with "
            "enable_categorical=True) and HistGradientBoosting (categorical_features="
            "'from_dtype') read categories instead: X.astype({name: 'category'}) in pandas, "
            "X.with_columns(pl.col(name).cast(pl.Categorical)) in polars. CatBoost reads the "
            "string and category columns named in cat_features, a missing string written as "
            "one: X.fillna({name: 'missing'}). Any other teacher reads them through a Pipeline "
            "that encodes them first, e.g. make_pipeline(make_column_transformer((OneHotEncoder("
            "handle_unknown='ignore'), columns), remainder='passthrough'), teacher). The student "
            "reads any of these."
        )


def _shown(names):
    """At most :data:`SHOWN_COLUMNS` names, and how many more."""
    more = len(names) - SHOWN_COLUMNS
    return f"{names[:SHOWN_COLUMNS]} (and {more} more)" if more > 0 else str(names)


def _string_columns(X):
    """The names of a DataFrame's string (or object) columns, pandas or polars; [] for anything
    else."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None:
        return []
    if hasattr(dtypes, "items"):  # pandas
        return [name for name, dtype in dtypes.items()
                if str(dtype) in ("object", "str", "string")]
    columns = getattr(X, "columns", None)  # polars: a list of dtypes beside the names
    if columns is None:
        return []
    return [name for name, dtype in zip(columns, dtypes) if str(dtype) in ("String", "Utf8")]
