"""Oracle (runs in .venv-oracles): which frames qwen-vl-utils' ``process_vision_info`` shows for
each record of a qwen-vl export.

stdin: ``{"out": EXPORT_DIR, "records": [record, ...]}``; stdout: ``{"records": [{"id", "kind",
"indices", "frames", "shapes": [[...16x12 grey levels...], ...]}]}``: for a video record the frame indices
qwen-vl-utils reports (its video metadata) and the frames it yields, each shrunk to 16x12 grey
levels; for an image record the images it yields, shrunk the same way."""

import json
import os
import sys

import numpy as np
from PIL import Image
from qwen_vl_utils import process_vision_info


def shrink(chw) -> list:
    img = Image.fromarray(np.asarray(chw).transpose(1, 2, 0).clip(0, 255).astype(np.uint8)).convert("L")
    return np.asarray(img.resize((16, 12), Image.BILINEAR), float).round(1).tolist()


def main() -> None:
    doc = json.load(sys.stdin)
    out, rows = doc["out"], []
    for rec in doc["records"]:
        if "video" in rec:
            element = {"type": "video", "video": "file://" + os.path.join(out, rec["video"])}
            element.update({k: rec[k] for k in ("nframes", "fps") if k in rec})
            _, videos, _ = process_vision_info(
                [{"role": "user", "content": [element]}], return_video_kwargs=True, return_video_metadata=True
            )
            video, meta = videos[0]
            rows.append(
                {
                    "id": rec["id"],
                    "kind": "video",
                    "indices": [int(i) for i in meta["frames_indices"]],
                    "frames": [shrink(f) for f in video.numpy()],
                    "shapes": [list(video.shape[1:])] * int(video.shape[0]),
                }
            )
        else:
            content = [{"type": "image", "image": "file://" + os.path.join(out, p)} for p in rec["image"]]
            images, _ = process_vision_info([{"role": "user", "content": content}])
            arrays = [np.asarray(i).transpose(2, 0, 1) for i in images]
            rows.append(
                {
                    "id": rec["id"],
                    "kind": "images",
                    "indices": [],
                    "frames": [shrink(a) for a in arrays],
                    "shapes": [list(a.shape) for a in arrays],
                }
            )
    print(json.dumps({"records": rows}))


if __name__ == "__main__":
    main()
