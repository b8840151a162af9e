"""The order of the gallery's examples: the quickstart first, the cluster last."""

ORDER = [
    "distill_digits.py", "student_size.py", "real_data_mixed.py", "gradient_boosting_teachers.py",
    "real_data_text.py", "regression.py", "tuning.py", "deploy_onnx.py", "unlabelled_dask.py",
    "distill_images.py", "dask_grid_search.py",
]


class ExampleOrder:
    """Sort key for sphinx-gallery's ``within_subsection_order``: the position in ``ORDER``.

    A script not listed goes last, by name.
    """

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        return (ORDER.index(filename) if filename in ORDER else len(ORDER), filename)
