"""GPU training and prediction; skipped where CUDA is absent (CI), run on a lent GPU machine."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

from skdistill import DistilledClassifier, export_onnx

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture(scope="module")
def gpu_model():
    X, y = make_classification(3000, 20, n_informative=10, n_classes=3, random_state=0)
    clf = DistilledClassifier(
        RandomForestClassifier(50, random_state=0), device="cuda", max_epochs=20, random_state=0
    )
    return clf.fit(X, y), X, y


def test_trains_and_predicts_on_the_gpu(gpu_model):
    clf, X, y = gpu_model
    assert next(clf.student_.module_.parameters()).is_cuda
    assert clf.score(X, y) > 0.8
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0, atol=1e-12)


def test_same_seed_same_predictions_on_the_gpu(gpu_model):
    clf, X, y = gpu_model
    again = DistilledClassifier(
        RandomForestClassifier(50, random_state=0), device="cuda", max_epochs=20, random_state=0
    ).fit(X, y)
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X), atol=1e-6)


def test_gpu_model_loads_on_a_cpu_only_machine(gpu_model, tmp_path):
    clf, X, _ = gpu_model
    (tmp_path / "m.pkl").write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X)
    code = (
        "import pickle, warnings, numpy as np, torch;"
        "assert not torch.cuda.is_available();"
        "warnings.simplefilter('ignore');"
        f"m = pickle.loads(open({str(tmp_path / 'm.pkl')!r}, 'rb').read());"
        "assert str(m.student_.device) == 'cpu';"
        f"np.save({str(tmp_path / 'p.npy')!r}, m.predict_proba(np.load({str(tmp_path / 'X.npy')!r})))"
    )
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    on_cpu = np.load(tmp_path / "p.npy")
    on_gpu = clf.predict_proba(X)
    np.testing.assert_allclose(on_cpu, on_gpu, atol=1e-5)
    np.testing.assert_array_equal(on_cpu.argmax(axis=1), on_gpu.argmax(axis=1))


def test_gpu_model_exports_to_onnx(gpu_model, tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    clf, X, _ = gpu_model
    path = export_onnx(clf, tmp_path / "gpu.onnx")
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    proba = session.run(["probabilities"], {"X": X[:100].astype(np.float32)})[0]
    np.testing.assert_allclose(proba, clf.predict_proba(X[:100]), atol=1e-5)


def test_closed_form_steps_on_the_gpu_equal_autograd_steps(monkeypatch):
    from skdistill.training._numpy._closed_form import ClosedFormStep

    X, y = make_classification(600, 8, n_informative=5, n_classes=3, random_state=1)
    logits = (2 * np.eye(3)[y] + np.random.RandomState(1).normal(size=(600, 3))).astype(np.float32)

    def fit():
        model = DistilledClassifier("precomputed", T=2.0, device="cuda", max_epochs=5,
                                    random_state=0)
        return model.fit(X, y, teacher_logits=logits)

    fast = fit()
    monkeypatch.setattr(ClosedFormStep, "for_net", classmethod(lambda cls, m, c: None))
    slow = fit()
    np.testing.assert_allclose(fast.student_.history[:, "train_loss"],
                               slow.student_.history[:, "train_loss"], rtol=1e-4)
    np.testing.assert_allclose(fast.predict_proba(X), slow.predict_proba(X), atol=1e-4)


def test_side_by_side_search_on_the_gpu_chooses_as_grid_search():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    from skdistill import DistillerGridSearchCV

    X, y = make_classification(600, 8, n_informative=5, n_classes=3, random_state=2)
    estimator = DistilledClassifier(LogisticRegression(max_iter=500), device="cuda",
                                    max_epochs=10, random_state=0)
    grid = {"T": [1.0, 3.0], "alpha": [0.2, 0.9]}
    ours = DistillerGridSearchCV(estimator, grid).fit(X, y)
    theirs = GridSearchCV(estimator, grid, cv=3).fit(X, y)
    assert ours.side_by_side_ and ours.best_params_ == theirs.best_params_
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"],
                               theirs.cv_results_["mean_test_score"], atol=0.01)


def test_images_and_feature_distillation_on_the_gpu(tmp_path):
    from sklearn.datasets import load_digits

    from skdistill import ConvStudent, FeatureDistillation

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    torch.manual_seed(0)
    teacher = ConvStudent((1, 8, 8), 10, channels=(16, 32)).cuda()  # untrained: shapes only
    features = FeatureDistillation([("features.2", "features.2")], kind="hint")
    clf = DistilledClassifier(teacher, student_module=ConvStudent, device="cuda", max_epochs=2,
                              feature_distillation=features, random_state=0).fit(X, y)
    assert next(clf.student_.module_.parameters()).is_cuda
    assert clf.predict_proba(X[:5]).shape == (5, 10)
    import onnxruntime

    session = onnxruntime.InferenceSession(export_onnx(clf, tmp_path / "s.onnx"))
    np.testing.assert_allclose(session.run(None, {"X": X[:7]})[1], clf.predict_proba(X[:7]),
                               atol=1e-5)


def test_many_rows_are_encoded_a_batch_at_a_time_on_the_gpu(monkeypatch):
    import skdistill.stages._encoding as encoding_stage
    from skdistill.training._data import EncodedOnDevice

    X, y = make_classification(3000, 20, n_informative=10, n_classes=3, random_state=0)
    X = X.astype(np.float32)
    X[::13, 3] = np.nan
    stored = DistilledClassifier(RandomForestClassifier(50, random_state=0), device="cuda",
                                 max_epochs=5, random_state=0).fit(X, y)
    monkeypatch.setattr(encoding_stage, "ENCODED_IN_MEMORY_BYTES", 1024)  # every one "large"
    lazy = DistilledClassifier(RandomForestClassifier(50, random_state=0), device="cuda",
                               max_epochs=5, random_state=0)
    training = lazy.fit_teacher(X, y)
    assert isinstance(training.rows[0], EncodedOnDevice)
    assert training.rows[0].to("cuda").raw.is_cuda  # the rows move once; batches encode there
    lazy.fit(X, y)
    np.testing.assert_allclose(lazy.predict_proba(X), stored.predict_proba(X), atol=1e-5)
