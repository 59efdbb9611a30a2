"""Asks pandas and scikit-learn whether `etl.ts --features all` and `etl.ts apply` did what
test/reference_pipeline.py (SimpleImputer + OneHotEncoder + StandardScaler, fitted on the same
train rows) does.

    python3 test/interop_any_csv_check.py TRAIN_CSV NEW_CSV PROJECT_ROOT TARGET DROP SEED TEST_SIZE IMPUTE

Prints one JSON object, {check name: null when it holds, else why not}.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_pipeline  # noqa: E402
from checks import check, report  # noqa: E402

train_csv, new_csv, root, target, drop, seed, test_size, impute = sys.argv[1:9]
fitted = reference_pipeline.fit(train_csv, target, drop.split(","), int(seed), float(test_size), impute)
art = os.path.join(root, "artifacts", "transform_artifacts")
@check("X_train and X_val equal the imputer + one-hot + scaler reference within 1e-5")
def _():
    for name in ["X_train", "X_val"]:
        np.testing.assert_allclose(np.load(os.path.join(art, name + ".npy")), fitted[name], rtol=0, atol=1e-5, err_msg=name)
    for name in ["y_train", "y_val"]:
        assert np.load(os.path.join(art, name + ".npy")).tobytes() == fitted[name].tobytes(), name


@check("feature_columns.json, imputer.json and encoder.json hold the reference's columns, statistics and categories")
def _():
    assert json.load(open(os.path.join(art, "feature_columns.json"))) == fitted["columns"]
    imputer = json.load(open(os.path.join(art, "imputer.json")))
    np.testing.assert_allclose(imputer["statistics_"], fitted["statistics"], rtol=1e-6)
    encoder = json.load(open(os.path.join(art, "encoder.json")))
    assert dict(zip(encoder["feature_names_in_"], encoder["categories_"])) == fitted["categories"]


@check("apply: X_new equals the reference's transform of the new rows within 1e-5")
def _():
    ours = np.load(os.path.join(root, "artifacts", "inference_artifacts", "X_new.npy"))
    np.testing.assert_allclose(ours, reference_pipeline.apply(fitted, new_csv), rtol=0, atol=1e-5)


report()
