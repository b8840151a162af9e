"""The package's own encoding as a torch module: the encoder's numbers, for arrays and frames."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.preprocessing import StandardScaler

from skdistill import DistilledClassifier, make_student_encoder
from skdistill.students._encoding_module import encode_in_chunks
from skdistill.students._fitted_encoder import numeric_encoding


def awkward_rows(dtype, n=400, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 6)).astype(dtype)
    X[::7, 1] = np.nan  # some missing values
    X[:, 3] = np.nan  # all missing
    X[:, 4] = 2.0  # constant
    X[:, 5] = rng.randint(0, 3, n)  # three values
    return X


@pytest.mark.parametrize("numeric", ["both", "scale", "piecewise"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_same_numbers_as_the_encoders_transform(numeric, dtype):
    X = awkward_rows(dtype)
    encoder = make_student_encoder(X, numeric=numeric).fit(X)
    fresh = awkward_rows(dtype, n=50, seed=1) * 3  # beyond the fitted range too
    fresh[::3, 3] = 1.0
    encoding = numeric_encoding(encoder)
    assert not list(encoding.parameters())  # fixed buffers: nothing an optimizer changes
    computed = encode_in_chunks(encoding, fresh)
    assert computed.dtype == np.float32
    # computed in float32 from float32 rows: the encoder's numbers to float32's precision
    expected = encoder.transform(fresh.astype(np.float32).astype(np.float64))
    np.testing.assert_allclose(computed, expected, rtol=1e-6, atol=1e-6)
    assert numeric_encoding(encoder) is encoding  # read once per encoder
    copied = encoding.on("meta")
    assert copied.centre.device.type == "meta" and encoding.centre.device.type == "cpu"
    assert encoding.on("meta") is copied and encoding.on("cpu") is encoding


@pytest.mark.parametrize("numeric", ["both", "scale"])
def test_rows_known_finite_are_encoded_alike_without_the_fill(numeric):
    import torch

    X = awkward_rows(np.float32)
    encoding = numeric_encoding(make_student_encoder(X, numeric=numeric).fit(X))
    assert len(encoding.flagged)  # the missing flags of finite rows are zeros
    rows = torch.from_numpy(np.nan_to_num(awkward_rows(np.float32, n=40, seed=2), nan=1.5))
    given = rows.clone()
    with torch.inference_mode():
        filled, unfilled = encoding(rows), encoding(rows, finite=True)
    torch.testing.assert_close(unfilled, filled, rtol=0, atol=0)
    torch.testing.assert_close(rows, given, rtol=0, atol=0)  # the caller's rows stay as given


@pytest.mark.parametrize("numeric", ["both", "scale"])
def test_the_division_folded_into_the_next_layer_gives_the_same_outputs(numeric):
    import copy

    import torch

    X = awkward_rows(np.float32)
    encoding = numeric_encoding(make_student_encoder(X, numeric=numeric).fit(X))
    torch.manual_seed(0)
    layer = torch.nn.Linear(encoding.n_features_out, 5)
    folded, folded_layer = copy.deepcopy(encoding), copy.deepcopy(layer)
    assert folded.fold_division_into(folded_layer) and not folded.divides
    rows = torch.from_numpy(awkward_rows(np.float32, n=60, seed=3) * 3)  # beyond the bins too
    with torch.no_grad():
        expected, got = layer(encoding(rows)), folded_layer(folded(rows))
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert encoding.divides  # the original is untouched
    broken = copy.deepcopy(encoding)
    broken.width[0] = 0.0
    assert not broken.fold_division_into(copy.deepcopy(layer)) and broken.divides


def test_other_encoders_have_none():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "x"]})
    assert numeric_encoding(make_student_encoder(frame).fit(frame)) is None
    assert numeric_encoding(StandardScaler().fit(np.ones((3, 2)))) is None


@pytest.mark.parametrize("numeric", ["both", "scale", "piecewise"])
@pytest.mark.parametrize("finite", [False, True])
def test_numpys_forward_pass_gives_torchs_bits(numeric, finite):
    import copy

    import torch

    X = awkward_rows(np.float32)
    encoding = numeric_encoding(make_student_encoder(X, numeric=numeric).fit(X))
    rows = awkward_rows(np.float32, n=40, seed=4) * 3  # beyond the bins too
    rows = np.nan_to_num(rows, nan=-0.7) if finite else rows
    given = rows.copy()
    folded = copy.deepcopy(encoding)
    folded.fold_division_into(torch.nn.Linear(encoding.n_features_out, 2))
    for each in (encoding, folded):
        with torch.inference_mode():
            expected = each(torch.from_numpy(rows), finite=finite).numpy()
        got = each.numpy_forward(rows, finite=finite)
        assert got.dtype == np.float32 and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)
        padded = np.full((len(rows) + 3, expected.shape[1]), 7.0, np.float32)  # a padded tile
        written = each.numpy_forward(rows, finite=finite, out=padded)
        assert np.shares_memory(written, padded) and written.shape == expected.shape
        np.testing.assert_array_equal(padded[:len(rows)], expected)
        assert (padded[len(rows):] == 7.0).all()  # rows past x's untouched
    np.testing.assert_array_equal(rows, given)  # the caller's rows stay as given
    moved = copy.deepcopy(encoding)
    before = moved.numpy_forward(rows, finite=finite)
    moved.to(torch.float64).to(torch.float32)  # buffers replaced: read anew
    np.testing.assert_array_equal(moved.numpy_forward(rows, finite=finite), before)
    moved.centre = moved.centre + 1.0  # a buffer assigned: read anew
    with torch.inference_mode():
        expected = moved(torch.from_numpy(rows), finite=finite).numpy()
    np.testing.assert_array_equal(moved.numpy_forward(rows, finite=finite), expected)
    assert not np.array_equal(expected, before)


@pytest.mark.parametrize("numeric", ["both", "scale"])
def test_a_row_predicted_alone_is_the_row_predicted_among_many(numeric):
    from skdistill.stages import _encoding as encoding_stage

    X = np.nan_to_num(awkward_rows(np.float64), nan=0.0)
    X[::7, 1] = np.nan
    y = (X[:, 0] + X[:, 5] > 1).astype(int)
    candidates = encoding_stage.CANDIDATE_ENCODINGS
    encoding_stage.CANDIDATE_ENCODINGS = (numeric,)
    try:
        model = DistilledClassifier(HistGradientBoostingClassifier(max_iter=20), max_epochs=3,
                                    random_state=0).fit(X, y)
    finally:
        encoding_stage.CANDIDATE_ENCODINGS = candidates
    assert model.student_encoding_ == numeric
    together = model.predict_proba(X)  # chunks of many rows: encoded by torch
    for i in (0, 7, 13, 399):  # one row (row 7 has a missing value): encoded by numpy
        np.testing.assert_array_equal(model.predict_proba(X[i:i + 1]), together[i:i + 1])
    np.testing.assert_array_equal(model.predict_proba(X[5:21]), together[5:21])


def test_predicting_a_few_rows_takes_the_fast_path_with_the_same_answer():
    X = np.nan_to_num(awkward_rows(np.float64), nan=0.0)
    X[::7, 1] = np.nan
    y = (np.nan_to_num(X[:, 0]) + X[:, 5] > 1).astype(int)
    model = DistilledClassifier(HistGradientBoostingClassifier(max_iter=20), max_epochs=3,
                                random_state=0).fit(X, y)
    assert model._plain_rows(X[:5]) is not None  # the fast path
    assert model._plain_rows(X[:5].tolist()) is None  # the full path
    np.testing.assert_array_equal(model.predict_proba(X[:5]),
                                  model.predict_proba(X[:5].tolist()))
    one = X[7:8]  # a missing value where fit had some
    assert np.isnan(one).any() and model._plain_rows(one) is not None
    np.testing.assert_array_equal(model.predict_proba(one), model.predict_proba(one.tolist()))
    stray = X[:2].copy()
    stray[0, 0] = np.nan  # no missing value there in fit: filled with the fitted median
    assert model._plain_rows(stray) is not None
    np.testing.assert_array_equal(model.predict_proba(stray),
                                  model.predict_proba(stray.tolist()))
    bad = X[:2].copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        model.predict(bad)


def test_an_encoder_fitted_anew_in_place_is_read_anew():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    X[::7, 1] = np.nan
    encoder = make_student_encoder(X).fit(X)
    first = numeric_encoding(encoder)
    assert numeric_encoding(encoder) is first  # computed once
    moved = X * 3 + 1
    encoder.fit(moved)
    np.testing.assert_allclose(encode_in_chunks(numeric_encoding(encoder), moved),
                               encoder.transform(moved), rtol=1e-5, atol=1e-5)
    encoder.named_transformers_["numeric"].fit(X * 5)  # a part, in place
    np.testing.assert_allclose(encode_in_chunks(numeric_encoding(encoder), moved),
                               encoder.transform(moved), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n_rows", [3, 300])  # categories looked up one by one, and at once
def test_a_frames_encoding_read_as_numbers_and_codes_is_the_encoders_transform(n_rows):
    from skdistill.students._fitted_encoder import encodable_rows

    rng = np.random.RandomState(0)
    n = 600
    frame = pd.DataFrame({
        "size": rng.normal(size=n),
        "gaps": np.where(rng.rand(n) < 0.1, np.nan, rng.normal(size=n)),  # flagged
        "city": rng.choice(["a", "b", "c"] + [f"rare{i}" for i in range(30)], n),  # infrequent
        "flag": pd.array(rng.choice([True, False, None], n), dtype="boolean"),
        "kind": pd.Categorical(rng.choice([1, 2, 3], n)),
        "note": rng.choice(["x", None, "y"], n),
    })
    encoder = make_student_encoder(frame).fit(frame)
    fresh = frame.sample(n_rows, random_state=1).copy()
    fresh.iloc[0, 2] = "never seen"  # all zeros, as OneHotEncoder(handle_unknown="ignore")
    fresh.iloc[-1, 5] = None
    kinds = rng.choice([1, 2, 3, 4, None], n_rows)  # another order, an unseen 4, a missing one
    fresh["kind"] = pd.Categorical(kinds, categories=[3, 1, 4, 2])
    encoding, read = encodable_rows(encoder, fresh)
    assert type(encoding).__name__ == "TableEncoding" and read.shape == (n_rows, 6)
    np.testing.assert_allclose(encode_in_chunks(encoding, read), encoder.transform(fresh),
                               rtol=1e-6, atol=1e-6)
    as_objects = frame.to_numpy(dtype=object)  # the same encoding of an object array
    encoder = make_student_encoder(as_objects).fit(as_objects)
    encoding, read = encodable_rows(encoder, as_objects[:n_rows])
    np.testing.assert_allclose(encode_in_chunks(encoding, read),
                               encoder.transform(as_objects[:n_rows]), rtol=1e-6, atol=1e-6)
