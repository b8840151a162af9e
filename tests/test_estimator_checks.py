"""scikit-learn's own estimator checks, every one of them, with no expected failures."""

from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdistill import DistilledClassifier, DistilledRegressor

FAST = dict(max_epochs=20, lr=0.01, random_state=0, module__hidden_layer_sizes=(16,))
ESTIMATORS = [DistilledClassifier(LogisticRegression(), **FAST), DistilledRegressor(Ridge(), **FAST)]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
