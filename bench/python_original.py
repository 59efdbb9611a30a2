"""The Python original's three steps, each run as its own process as its README runs them.

    python3 bench/python_original.py extract|transform|load CSV WORKDIR

extract: pandas read_csv, to_pickle. transform: train_test_split, StandardScaler, np.save.
load: a torch DataLoader of batch 32 over each split, and its first batch. Reports its peak
resident memory on stderr for bench.ts.
"""
import json
import os
import pickle
import resource
import sys

FEATURES = ["gpa", "attendance_rate", "sat_math", "sat_ebrw", "cte_hours", "internship",
            "career_interest_clarity", "self_efficacy"]
TARGET = "readiness_score"
step, csv, work = sys.argv[1:4]


def extract():
    import pandas as pd
    df = pd.read_csv(csv)
    df.to_pickle(os.path.join(work, "ccr_raw.pkl"))
    print(df.shape)
    print(df.head(3))


def transform():
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
    df = pd.read_pickle(os.path.join(work, "ccr_raw.pkl"))
    X = df[FEATURES].to_numpy(dtype=np.float32)
    y = df[TARGET].to_numpy(dtype=np.float32)
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2, random_state=42)
    scaler = StandardScaler()
    X_train = scaler.fit_transform(X_train).astype(np.float32)
    X_val = scaler.transform(X_val).astype(np.float32)
    for name, a in [("X_train", X_train), ("X_val", X_val), ("y_train", y_train), ("y_val", y_val)]:
        np.save(os.path.join(work, name + ".npy"), a)
    with open(os.path.join(work, "scaler.pkl"), "wb") as f:
        pickle.dump(scaler, f)
    with open(os.path.join(work, "feature_columns.json"), "w") as f:
        json.dump(FEATURES, f, indent=2)
    print(X_train.shape, X_val.shape)


def load():
    import numpy as np
    import torch
    from torch.utils.data import DataLoader, TensorDataset
    for name, shuffle in [("train", True), ("val", True)]:  # the original shuffled both
        X = torch.from_numpy(np.load(os.path.join(work, f"X_{name}.npy")))
        y = torch.from_numpy(np.load(os.path.join(work, f"y_{name}.npy"))).unsqueeze(1)
        loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=shuffle, num_workers=0)
        xb, yb = next(iter(loader))
        info = {"batch_size": 32, "num_workers": 0, "shuffle_train": name == "train", "num_batches": len(loader),
                "example_batch_X_shape": list(xb.shape), "example_batch_y_shape": list(yb.shape)}
        with open(os.path.join(work, f"{name}_loader_info.json"), "w") as f:
            json.dump(info, f, indent=2)
        print(name, info["num_batches"], "batches")


{"extract": extract, "transform": transform, "load": load}[step]()
sys.stderr.write(f"\npeak_rss_kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\n")
