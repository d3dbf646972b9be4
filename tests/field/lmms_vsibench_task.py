"""Oracle (runs in .venv-oracles): a ``synth export --format vsibench`` folder evaluated as lmms-eval
0.7.3 evaluates its task file, with VSI-Bench's own task code, for given replies.

The task file is read by lmms-eval's ``lmms_eval.utils.load_yaml_config`` (which also anchors the
``data_files`` of a local builder at the file's folder); the documents are loaded by
``datasets.load_dataset`` as lmms-eval's ``ConfigurableTask.download`` calls it. Each ``!function``
it names is looked up in lmms-eval's installed ``tasks/vsibench/utils.py``, loaded by file path
(``lmms_vsibench.load_vsibench``): lmms-eval goes into .venv-oracles without its dependencies
(only its vsibench scoring is used), so the package ``lmms_eval.tasks``, whose functions the task
file names, cannot be imported there; the functions are the same. ``HF_HOME`` is the export folder,
as docs/vsibench.md says to run lmms-eval, set before vsibench's utils is loaded (it reads it then).

stdin: ``{"out": EXPORT_FOLDER, "cache": DATASETS_CACHE, "runs": {NAME: {synth_id: reply}}}``.
stdout: ``{"documents": N, "functions": {key: name}, "visuals": [path, ...], "runs": {NAME:
{"items": {synth_id: score}, "types": {synth_id: question_type}, "metrics": {metric: value} or
"error": message}}}``: per document its metric's value (``accuracy`` or ``MRA:.5:.95:.05``) after
``process_results``; per run every metric of the task file aggregated by its aggregation function
(or the aggregation's error)."""

import json
import os
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))

UTILS = "lmms_eval.tasks.vsibench.utils"


def main() -> None:
    payload = json.load(sys.stdin)
    out = Path(payload["out"])
    os.environ["HF_HOME"] = str(out)
    os.environ["HF_DATASETS_CACHE"] = payload["cache"]
    import datasets
    from lmms_eval.utils import load_yaml_config
    from lmms_vsibench import load_vsibench

    vsibench = load_vsibench()
    (task_file,) = out.glob("*.yaml")
    config = load_yaml_config(yaml_path=str(task_file), mode="simple")  # !function tags stay yaml nodes

    def function(node):
        assert isinstance(node, yaml.Node) and node.tag == "!function", node
        module, name = node.value.rsplit(".", 1)
        assert module == UTILS, f"{node.value} is not a function of lmms-eval's vsibench task"
        return getattr(vsibench, name)

    kwargs = dict(config["dataset_kwargs"])
    dataset = datasets.load_dataset(config["dataset_path"], cache_dir=payload["cache"], **kwargs)
    docs = function(config["process_docs"])(dataset[config["test_split"]])
    visuals = []
    for doc in docs:
        visuals += function(config["doc_to_visual"])(doc)  # raises if the video is not where vsibench looks
        text = function(config["doc_to_text"])(doc)
        assert doc["question"] in text and all(o in text for o in doc["options"] or []), text
        assert doc[config["doc_to_target"]] == doc["ground_truth"]
    process = function(config["process_results"])
    metrics = [*vsibench.METRICS_FOR_MCA, *vsibench.METRICS_FOR_NA]
    runs = {}
    for name, replies in payload["runs"].items():
        results = [process(dict(doc), [replies[doc["synth_id"]]]) for doc in docs]
        items = {
            doc["synth_id"]: float(next(r["vsibench_overall"][m] for m in metrics if m in r["vsibench_overall"]))
            for doc, r in zip(docs, results)
        }
        run = {"items": items, "types": {d["synth_id"]: d["question_type"] for d in docs}}
        try:
            run["metrics"] = {
                m["metric"]: float(function(m["aggregation"])([r[m["metric"]] for r in results]))
                for m in config["metric_list"]
            }
        except KeyError as e:  # vsibench's _compute_all_subscores needs every object_rel_direction tier
            run["error"] = f"KeyError: {e}"
        runs[name] = run
    functions = {k: v.value for k, v in config.items() if isinstance(v, yaml.Node)}
    print(json.dumps({"documents": len(docs), "functions": functions, "visuals": visuals, "runs": runs}))


if __name__ == "__main__":
    main()
