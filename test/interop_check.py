"""Asks NumPy, pandas and scikit-learn whether etl.ts's artifacts are what they would have made.

    python3 test/interop_check.py CSV PROJECT_ROOT SEED TEST_SIZE BATCH_SIZE

Runs every check and prints one JSON object, {check name: null when it holds, else why not}.
test/interop.test.ts runs it after each etl.ts run and turns each entry into a test.
"""
import json
import math
import os
import sys

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, report  # noqa: E402

FEATURES = ["gpa", "attendance_rate", "sat_math", "sat_ebrw", "cte_hours", "internship",
            "career_interest_clarity", "self_efficacy"]
TARGET = "readiness_score"

csv, root, seed, test_size, batch_size = sys.argv[1:6]
seed, test_size, batch_size = int(seed), float(test_size), int(batch_size)
transform_dir = os.path.join(root, "artifacts", "transform_artifacts")
loader_dir = os.path.join(root, "artifacts", "loader_artifacts")
df = pd.read_csv(csv)
X = df[FEATURES].to_numpy(dtype=np.float32)
y = df[TARGET].to_numpy(dtype=np.float32)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=test_size, random_state=seed)
arrays = {}


@check("np.load reads every .npy as float32, C order, with the split's shapes")
def _():
    expected = {"X_train": X_train.shape, "X_val": X_val.shape, "y_train": y_train.shape, "y_val": y_val.shape}
    for name, shape in expected.items():
        a = np.load(os.path.join(transform_dir, name + ".npy"))
        assert a.dtype == np.float32, f"{name}: dtype {a.dtype}"
        assert a.flags.c_contiguous, f"{name}: not C order"
        assert a.shape == shape, f"{name}: shape {a.shape}, expected {shape}"
        arrays[name] = a


@check("pd.read_json(ccr_raw.json, orient='split') equals pd.read_csv of the input")
def _():
    raw = pd.read_json(os.path.join(root, "data", "ccr_raw.json"), orient="split", dtype=False, precise_float=True, convert_dates=False, convert_axes=False)
    pd.testing.assert_frame_equal(raw, df, check_dtype=True, check_exact=True)


@check("train_test_split with the same seed and test size gives exactly our y_train and y_val")
def _():
    assert arrays["y_train"].tobytes() == y_train.tobytes(), "y_train differs"
    assert arrays["y_val"].tobytes() == y_val.tobytes(), "y_val differs"


scaler = StandardScaler().fit(X_train)


@check("StandardScaler().fit on the train rows gives our mean_, var_ and scale_ to 1e-12 relative")
def _():
    ours = json.load(open(os.path.join(transform_dir, "scaler.json")))
    for key in ["mean_", "var_", "scale_"]:
        np.testing.assert_allclose(ours[key], getattr(scaler, key), rtol=1e-12, atol=0, err_msg=key)
    assert ours["n_samples_seen_"] == scaler.n_samples_seen_
    assert ours["n_features_in_"] == scaler.n_features_in_
    assert ours["feature_names_in_"] == FEATURES


@check("X equals NumPy's (X - mean_.astype(float32)) / scale_.astype(float32) bit for bit (scikit-learn 1.8)")
def _():
    mean32, scale32 = scaler.mean_.astype(np.float32), scaler.scale_.astype(np.float32)
    for name, rows in [("X_train", X_train), ("X_val", X_val)]:
        expected = (rows - mean32) / scale32
        same = arrays[name].view(np.uint32) == expected.view(np.uint32)
        assert same.all(), f"{name}: {int((~same).sum())} values differ, e.g. {arrays[name][~same][:3]} vs {expected[~same][:3]}"


@check("X agrees with the installed scikit-learn's transform to 1e-6 absolute")
def _():
    for name, rows in [("X_train", X_train), ("X_val", X_val)]:
        np.testing.assert_allclose(arrays[name], scaler.transform(rows), rtol=0, atol=1e-6, err_msg=name)


@check("the loader infos say ceil(n / batch_size) batches and the first batch's shapes")
def _():
    for name, n, shuffle in [("train", len(y_train), True), ("val", len(y_val), False)]:
        info = json.load(open(os.path.join(loader_dir, f"{name}_loader_info.json")))
        first = min(batch_size, n)
        expected = {"batch_size": batch_size, "num_workers": 0, "shuffle_train": shuffle,
                    "num_batches": math.ceil(n / batch_size), "example_batch_X_shape": [first, len(FEATURES)],
                    "example_batch_y_shape": [first, 1], "num_samples": n, "drop_last": False}
        assert info == expected, f"{name}: {info} != {expected}"


report()
