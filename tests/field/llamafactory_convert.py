"""Oracle (runs in .venv-oracles): LLaMA-Factory 0.9.5 reading a ShareGPT export as a trainer does.

stdin: ``{"out": EXPORT_DIR, "video_fps": F, "video_maxlen": N}``; stdout: ``{"records": [{"prompt_tokens",
"media", "kind", "empty"}], "indices": {video path: [frame indices]}}``: per record, the media
placeholders in the converted prompt (``<video>`` / ``<image>``), the media count and whether the
converter refused it (an empty prompt: LLaMA-Factory's "broken data"); per video, the frame
indices LLaMA-Factory samples with the training arguments ``video_fps`` / ``video_maxlen``."""

import json
import os
import sys

import av
from llamafactory.data.converter import get_dataset_converter
from llamafactory.data.mm_plugin import get_mm_plugin
from llamafactory.data.parser import get_dataset_list
from llamafactory.hparams import DataArguments


def main() -> None:
    doc = json.load(sys.stdin)
    out = doc["out"]
    (attr,) = get_dataset_list(["synth"], out)
    data_args = DataArguments(dataset_dir=out, media_dir=out)
    converter = get_dataset_converter(attr.formatting, attr, data_args)
    with open(os.path.join(out, attr.dataset_name)) as f:
        records = json.load(f)
    rows, indices = [], {}
    plugin = get_mm_plugin("base", image_token="<image>", video_token="<video>")
    for rec in records:
        ex = converter(rec)
        text = " ".join(m["content"] for m in ex["_prompt"] + ex["_response"])
        videos, images = ex["_videos"] or [], ex["_images"] or []
        rows.append(
            {
                "placeholders": text.count("<video>") + text.count("<image>"),
                "media": len(videos) + len(images),
                "kind": "video" if videos else "images",
                "empty": not ex["_prompt"],
                "exist": all(os.path.isfile(p) for p in [*videos, *images]),
            }
        )
        for v in videos:
            if v not in indices and doc.get("video_fps"):
                with av.open(v) as container:
                    stream = container.streams.video[0]
                    found = plugin._get_video_sample_indices(
                        stream, video_fps=doc["video_fps"], video_maxlen=doc["video_maxlen"]
                    )
                indices[os.path.relpath(v, out)] = [int(i) for i in found]
    print(json.dumps({"records": rows, "indices": indices}))


if __name__ == "__main__":
    main()
