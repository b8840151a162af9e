"""The estimators: the fit's order and parameters, its data, training, prediction and search."""
