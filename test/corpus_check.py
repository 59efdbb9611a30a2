"""pandas and scikit-learn as the judges of etl.ts on CSV files nobody here wrote.

    python3 test/corpus_check.py plan FILE...      -> JSON: per file, what read_csv makes of it
    python3 test/corpus_check.py judge PLAN_RUNS   -> JSON: per file, null when etl.ts agrees

`plan`: whether pd.read_csv(FILE) (default arguments) reads it, and if so a target for the
pipeline: the last int or float column without a blank, when the file has ten rows or more.
`judge` takes what etl.ts did with each file (a JSON list of {file, extract, pipeline}) and
checks: a file read_csv reads was extracted (exit 0) to a raw JSON that the README's line reads
back as read_csv's frame (assert_frame_equal, exact); a file read_csv refuses was refused with
one line; a pipeline's X and y equal a plain scikit-learn build (reference_pipeline.py) within
one float32 step, with the same column names.
"""
import json
import os
import sys
import warnings

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_pipeline  # noqa: E402

warnings.simplefilter("ignore")


def plan(files):
    out = []
    for file in files:
        try:
            df = pd.read_csv(file)
        except Exception as err:  # pandas refuses: etl.ts must refuse too
            out.append({"file": file, "reads": False, "why": str(err).splitlines()[0][:200]})
            continue
        target = None
        if len(df) >= 10 and isinstance(df.index, pd.RangeIndex):
            numeric = [c for c in df.columns if df[c].dtype.kind in "if" and df[c].notna().all()
                       and np.isfinite(df[c].to_numpy(np.float64)).all()
                       and (np.abs(df[c].to_numpy(np.float64)) < 3e38).all()]
            target = numeric[-1] if numeric and len(df.columns) > 1 else None
        out.append({"file": file, "reads": True, "target": target})
    return out


def read_back(raw):
    return pd.read_json(raw, orient="split", dtype=False, precise_float=True, convert_dates=False, convert_axes=False)


def one_float32_step(ours, theirs):
    """Equal shapes, and each value within one float32 spacing of the reference's."""
    if ours.shape != theirs.shape:
        return f"shape {ours.shape} vs {theirs.shape}"
    step = np.spacing(np.abs(theirs).astype(np.float32))
    bad = np.abs(ours.astype(np.float64) - theirs.astype(np.float64)) > step
    return f"{bad.sum()} values differ by more than a float32 step" if bad.any() else None


def judge_pipeline(file, target, drop, folder):
    fitted = reference_pipeline.fit(file, target, drop, 42, 0.2, "median")
    arrays = os.path.join(folder, "artifacts", "transform_artifacts")
    columns = json.load(open(os.path.join(arrays, "feature_columns.json")))
    if columns != fitted["columns"]:
        return f"columns {columns[:5]}... vs {fitted['columns'][:5]}..."
    for name in ["X_train", "X_val", "y_train", "y_val"]:
        why = one_float32_step(np.load(os.path.join(arrays, f"{name}.npy")), fitted[name])
        if why:
            return f"{name}: {why}"
    return None


def judge(runs):
    verdicts = {}
    for run in runs:
        file, extract = run["file"], run["extract"]
        why = None
        if run["reads"]:
            if extract["status"] != 0 and run["known"] and extract["stderr"].count("\n") == 1:
                pass  # a known difference, refused in one line (KNOWN_REFUSALS in corpus.test.ts)
            elif extract["status"] != 0:
                why = f"read_csv reads it, etl.ts refused: {extract['stderr'][:300]}"
            else:
                try:
                    pd.testing.assert_frame_equal(read_back(extract["raw"]), pd.read_csv(file),
                                                  check_exact=True)
                except AssertionError as err:
                    why = "read back differs: " + " ".join(str(err).split())[:300]
        elif extract["status"] == 0 or not extract["stderr"].startswith("error: ") \
                or extract["stderr"].count("\n") != 1:
            why = f"read_csv refuses it ({run['why']}), etl.ts: exit {extract['status']}, " \
                  f"{extract['stderr'][:200]!r}"
        pipeline = run.get("pipeline")
        if why is None and pipeline:
            if pipeline["status"] != 0:
                why = f"pipeline (--target {run['target']}) refused: {pipeline['stderr'][:300]}"
            else:
                why = judge_pipeline(file, run["target"], pipeline["drop"], pipeline["out"])
        verdicts[file] = why
    return verdicts


if __name__ == "__main__":
    if sys.argv[1] == "plan":
        print(json.dumps(plan(sys.argv[2:])))
    else:
        print(json.dumps(judge(json.load(open(sys.argv[2])))))
