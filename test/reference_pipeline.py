"""The reference for `etl.ts --features all --target ... --drop ...`, built from pandas and
scikit-learn: SimpleImputer for the numeric features and OneHotEncoder(drop="first",
handle_unknown="ignore") for the text ones, fitted on the train rows of the same
train_test_split, then StandardScaler. Used by generate_fixtures.py and the interop tests.
"""
import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler

def fit(csv, target, drop, seed, test_size, impute):
    df = pd.read_csv(csv)
    features = [c for c in df.columns if c != target and c not in drop]
    numeric = [c for c in features if pd.api.types.is_numeric_dtype(df[c])]
    text = [c for c in features if c not in numeric]
    y = df[target].to_numpy(dtype=np.float32)
    train_rows, val_rows = train_test_split(np.arange(len(df)), test_size=test_size, random_state=seed)
    train = df.iloc[train_rows]
    imputer = SimpleImputer(strategy=impute).fit(train[numeric].to_numpy(dtype=np.float32)) if numeric else None
    encoders = {}
    for c in text:  # a blank is NaN, which OneHotEncoder makes a category of its own
        encoders[c] = OneHotEncoder(drop="first", handle_unknown="ignore").fit(train[[c]])
    state = {"numeric": numeric, "text": text, "imputer": imputer, "encoders": encoders}
    X = encode(state, df)
    scaler = StandardScaler().fit(X[train_rows])
    state["scaler"] = scaler
    columns = list(numeric) + [name for c in text for name in encoders[c].get_feature_names_out([c])]
    return {
        "state": state, "columns": columns,
        "X_train": scale(scaler, X[train_rows]), "X_val": scale(scaler, X[val_rows]),
        "y_train": y[train_rows], "y_val": y[val_rows],
        "statistics": [] if imputer is None else [float(v) for v in imputer.statistics_],
        "categories": {c: [None if v != v else str(v) for v in encoders[c].categories_[0]] for c in text},
    }


def encode(state, df):
    import warnings
    parts = []
    if state["numeric"]:
        parts.append(state["imputer"].transform(df[state["numeric"]].to_numpy(dtype=np.float32)).astype(np.float32))
    for c in state["text"]:
        values = df[[c]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "unknown categories ... encoded as all zeros": what we want
            parts.append(state["encoders"][c].transform(values).toarray().astype(np.float32))
    return np.hstack(parts)


def scale(scaler, X):
    """scikit-learn 1.8's float32 transform: float32 mean and scale, float32 arithmetic."""
    return (X - scaler.mean_.astype(np.float32)) / scaler.scale_.astype(np.float32)


def apply(fitted, csv):
    df = pd.read_csv(csv)
    return scale(fitted["state"]["scaler"], encode(fitted["state"], df))
