"""
How small can the student be? Retention against size
====================================================

A 200-tree random forest teaches students of one hidden layer from 2 to 64 units on the
digits. For each width the script trains the student on the labels alone (``alpha=0``)
and distilled with the default ``alpha=0.5``, and plots test accuracy against the number of
parameters, with the teacher's accuracy for reference. It prints the retention (student
accuracy over the teacher's) and how many forest nodes there are per student parameter.

Run: python examples/student_size.py
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skdistill import DistilledClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
forest = RandomForestClassifier(200, random_state=0).fit(X_train, y_train)
teacher_accuracy = forest.score(X_test, y_test)
teacher_nodes = sum(tree.tree_.node_count for tree in forest.estimators_)
print(f"teacher: 200 trees, {teacher_nodes:,} nodes, test accuracy {teacher_accuracy:.4f}")

# %%
# One student per width and setting; the frozen forest is fitted once and shared. Every
# student reads the pixels standardised, so that its size is the network's alone (the
# default ``student_preprocessor="auto"`` may choose a wider piecewise-linear encoding).
widths = [2, 4, 8, 16, 32, 64]
settings = {"labels alone (alpha=0)": 0.0, "distilled (alpha=0.5)": 0.5}
results = {name: [] for name in settings}
for width in widths:
    for name, alpha in settings.items():
        student = DistilledClassifier(FrozenEstimator(forest), alpha=alpha,
                                      student_preprocessor=StandardScaler(),
                                      module__hidden_layer_sizes=(width,), random_state=0)
        student.fit(X_train, y_train)
        n_parameters = sum(p.numel() for p in student.student_.module_.parameters())
        accuracy = student.score(X_test, y_test)
        results[name].append((n_parameters, accuracy))
        print(f"{name:24s} {width:3d} units {n_parameters:6,} parameters  accuracy {accuracy:.4f}"
              f"  retention {accuracy / teacher_accuracy:6.1%}"
              f"  forest nodes / parameters {teacher_nodes / n_parameters:4.0f}")

# %%
# Accuracy against size. Where the two curves part, the teacher teaches something the
# labels do not; on digits, one split, they stay close at every width: here size, not the
# teacher, decides the accuracy (the benchmarks measure this over several seeds).
figure, ax = plt.subplots(figsize=(6, 3.5))
for name, points in results.items():
    ax.plot(*zip(*points), marker="o", label=name)
ax.axhline(teacher_accuracy, color="black", linestyle="--", label="teacher (forest)")
ax.set(xscale="log", xlabel="student parameters", ylabel="test accuracy")
ax.legend()
figure.tight_layout()
