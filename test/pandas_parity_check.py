"""Asks pandas whether etl.ts's raw JSON is the frame read_csv makes of the same CSV.

    python3 test/pandas_parity_check.py CSV RAW_JSON

Prints one JSON object, {check name: null when it holds, else why not}: the frames must be
equal, dtypes and values exactly, column by column.
"""
import json
import sys
import os

import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, report  # noqa: E402

csv, raw = sys.argv[1:3]
expected = pd.read_csv(csv)
actual = pd.read_json(raw, orient="split", dtype=False, precise_float=True, convert_dates=False, convert_axes=False)


@check("pd.read_json(ccr_raw.json, orient='split', dtype=False, convert_dates=False, convert_axes=False) equals pd.read_csv, column by column")
def _():
    assert list(actual.columns) == list(expected.columns), "columns differ"
    wrong = []
    for name in expected.columns:
        try:
            pd.testing.assert_series_equal(actual[name], expected[name], check_dtype=True, check_exact=True)
        except AssertionError as err:
            first = next((i for i, (a, b) in enumerate(zip(actual[name], expected[name])) if not (a == b or (a != a and b != b))), None)
            wrong.append(f"{name}: json {actual[name].dtype} vs csv {expected[name].dtype}"
                         + (f", row {first}: {actual[name][first]!r} vs {expected[name][first]!r}" if first is not None else "")
                         + f" ({str(err).splitlines()[0]})")
    assert not wrong, "; ".join(wrong)


report()
