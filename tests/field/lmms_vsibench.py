"""Oracle (runs in .venv-oracles): VSI-Bench's reference scoring, lmms-eval 0.7.3's
``lmms_eval/tasks/vsibench/utils.py`` as installed, loaded by file path (the package's ``__init__``
is not run: scoring needs only this file, numpy, pandas, datasets, yaml and loguru).

stdin: ``{"groups": {NAME: [doc, ...]}}``, each doc a VSI-Bench document (``question_type``,
``question``, ``options`` for multiple choice, ``ground_truth``, ``dataset``, ``scene_name``) plus
``prediction``, the model's reply. Every doc goes through ``vsibench_process_results``; each group
through ``_compute_all_subscores`` (which needs every ``object_rel_direction_*`` tier in a group).
stdout: ``{"items": {NAME: [score, ...]}, "subscores": {NAME: {key: value}}}``: per doc, in order,
the value of its metric (``accuracy`` or ``MRA:.5:.95:.05``); per group, the subscores by their
lmms-eval keys (``object_counting_MRA:.5:.95:.05``, ..., ``object_rel_direction_accuracy``,
``overall``)."""

import importlib.util
import json
import sys
from pathlib import Path


def load_vsibench():
    """lmms-eval's installed ``tasks/vsibench/utils.py`` as a module."""
    (package,) = importlib.util.find_spec("lmms_eval").submodule_search_locations
    spec = importlib.util.spec_from_file_location("vsibench_utils", Path(package) / "tasks" / "vsibench" / "utils.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    vsibench = load_vsibench()
    metrics = [*vsibench.METRICS_FOR_MCA, *vsibench.METRICS_FOR_NA]
    items, subscores = {}, {}
    for name, docs in json.load(sys.stdin)["groups"].items():
        results = []
        for doc in docs:
            out = vsibench.vsibench_process_results(dict(doc), [doc["prediction"]])
            results.append(out["vsibench_overall"])
        items[name] = [float(next(r[m] for m in metrics if m in r)) for r in results]
        subscores[name] = {k: float(v) for k, v in vsibench._compute_all_subscores(results).items()}
    print(json.dumps({"items": items, "subscores": subscores}))


if __name__ == "__main__":
    main()
