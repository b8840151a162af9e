"""
Text: a TF-IDF student, with and without unlabelled documents
=============================================================

Distil a raw-text teacher into a TF-IDF network student, with and without unlabelled documents.

The teacher is a frozen ``TfidfVectorizer(sublinear_tf=True) + LogisticRegression``
pipeline that reads raw documents; the student, a 32-unit network, reads the
sparse TF-IDF matrix of its own ``student_preprocessor`` (never densified: its
first layer multiplies the sparse batches). Two settings, over ``n_seeds`` seeds
(one by default):

* **same labels**: the student is fitted on the very documents and labels the
  teacher was trained on, through a 500-word vocabulary;
* **few labels + unlabelled documents**: the teacher was trained elsewhere on
  2,500 labelled documents; the student has 500 labelled documents of its own
  and 3,000 unlabelled ones (``unlabeled_label=-1``), which the teacher labels.

The corpus is synthetic (topic-model documents generated below: a shared
background vocabulary plus one word distribution per class), so nothing is
downloaded. The script prints the test accuracy of the teacher, of the student
trained on the labels alone (``alpha=0``) and of the distilled students.

Run: python examples/real_data_text.py [n_seeds]
"""

import sys

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skdistill import DistilledClassifier


def topic_corpus(seed, n_docs, n_topics=4, vocabulary=3000, topic_share=0.25):
    """Documents of 8-30 words: each word from the background or from its class's topic."""
    rng = np.random.RandomState(seed)
    words = np.array([f"w{i}" for i in range(vocabulary)])
    background = rng.dirichlet(np.full(vocabulary, 0.1))
    topics = rng.dirichlet(np.full(vocabulary, 0.05), n_topics)
    y = rng.randint(0, n_topics, n_docs)
    docs = [
        " ".join(
            rng.choice(
                words,
                rng.randint(8, 31),
                p=(1 - topic_share) * background + topic_share * topics[label],
            )
        )
        for label in y
    ]
    return np.array(docs), y


def frozen_text_teacher(docs, y):
    pipeline = make_pipeline(
        TfidfVectorizer(sublinear_tf=True), LogisticRegression(C=5, max_iter=1000)
    )
    return FrozenEstimator(pipeline.fit(docs, y))


def student(teacher, alpha, seed, vocabulary):
    return DistilledClassifier(
        teacher,
        student_preprocessor=TfidfVectorizer(max_features=vocabulary, sublinear_tf=True),
        alpha=alpha,
        unlabeled_label=-1,
        module__hidden_layer_sizes=(32,),
        batch_size=128,
        lr=3e-3,
        max_epochs=100,
        random_state=seed,
    )


def same_labels(seed):
    docs, y = topic_corpus(seed, 3000)
    train, test, y_train, y_test = train_test_split(docs, y, random_state=seed, stratify=y)
    teacher = frozen_text_teacher(train, y_train)
    scores = {"teacher": teacher.score(test, y_test)}
    for alpha in (0.0, 0.5, 0.9):
        fitted = student(teacher, alpha, seed, vocabulary=500).fit(train, y_train)
        scores[f"student alpha={alpha}"] = fitted.score(test, y_test)
    return scores


def few_labels(seed):
    docs, y = topic_corpus(seed, 7000)
    train, test, y_train, y_test = train_test_split(docs, y, test_size=1000, random_state=seed)
    teacher = frozen_text_teacher(train[:2500], y_train[:2500])
    own_docs, own_labels = train[2500:], y_train[2500:].copy()
    own_labels[500:] = -1  # 500 labelled documents, 3,000 unlabelled
    scores = {"teacher": teacher.score(test, y_test)}
    for alpha in (0.0, 0.5, 0.9):
        fitted = student(teacher, alpha, seed, vocabulary=2000).fit(own_docs, own_labels)
        scores[f"student alpha={alpha}"] = fitted.score(test, y_test)
    return scores


def main(n_seeds=1):
    for title, setting in [
        ("same labels as the teacher, 500-word student vocabulary", same_labels),
        ("500 labelled + 3,000 unlabelled documents, 2,000-word student vocabulary", few_labels),
    ]:
        table = pd.DataFrame([setting(seed) for seed in range(n_seeds)])
        seeds = f"{n_seeds} seed" + "s" * (n_seeds > 1)
        print(f"Text, 4 classes, {title}: test accuracy over {seeds}")
        statistics = ["mean", "std"] if n_seeds > 1 else ["mean"]
        print(table.agg(statistics).T.round(4).to_string(), end="\n\n")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
