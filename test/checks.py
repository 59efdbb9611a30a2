"""Named checks for the interop scripts: each runs whatever the others do, and report() prints
{check name: null when it holds, else why not} as JSON for test/interop.test.ts."""
import json
import traceback

results = {}


def check(name):
    def run(fn):
        try:
            fn()
            results[name] = None
        except Exception as err:  # noqa: BLE001 - every failure is reported, none stops the others
            results[name] = f"{type(err).__name__}: {err}\n" + traceback.format_exc(limit=2)
    return run


def report():
    print(json.dumps(results, indent=2))
