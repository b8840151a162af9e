"""``"auto"``: the parameter value that asks the fit to choose (the encoding, alpha)."""

__all__ = ["AUTO", "is_auto"]

AUTO = "auto"


def is_auto(value):
    """Whether a parameter's ``value`` is ``"auto"``.

    Examples
    --------
    >>> is_auto("auto"), is_auto(0.5), is_auto(None)
    (True, False, False)
    """
    return isinstance(value, str) and value == AUTO
