"""The training formats ``synth export`` writes: one record per question (or per sample), as each
format's documentation defines it. Sources (also in ``docs/exports.md`` and in each JSON schema
under ``exports/schemas/``):

- ``llava-video``: LLaVA-NeXT / LLaVA-Video training data JSON (``LLaVA-VL/LLaVA-NeXT``,
  ``llava/train/train.py`` ``LazySupervisedDataset``; the ``lmms-lab/LLaVA-Video-178K`` files):
  a JSON list of ``{"id", "video" | "image", "conversations": [{"from": "human"|"gpt", "value"}]}``,
  the first human turn starting with ``<image>\\n`` (one per frame when frames are given as
  images); media paths relative to the ``--video_folder`` / ``--image_folder`` (here: OUT).
- ``sharegpt``: LLaMA-Factory's ShareGPT multimodal format (``hiyouga/LLaMA-Factory``,
  ``data/README.md``, "Multimodal Video Dataset"): ``{"conversations": [...], "videos": [...]}``
  (or ``"images"``), as many ``<video>`` (``<image>``) tokens in the conversation as media, plus
  the ``dataset_info.json`` entry that declares the columns.
- ``qwen-vl``: Qwen2-VL / Qwen2.5-VL fine-tuning JSON (``QwenLM/Qwen2.5-VL``,
  ``qwen-vl-finetune/qwenvl/data/data_processor.py``): ``{"video" | "image", "conversations"}``,
  ``<video>`` / ``<image>`` placeholders in the human turn matched one to one with the media,
  paths relative to the dataset's ``data_path`` (here: OUT).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from synth.evaluation.prompt import expected_reply, prompt
from synth.programs.family import QA

FORMATS = ("llava-video", "sharegpt", "qwen-vl")
RECORDS_FILE = {"llava-video": "llava_video.json", "sharegpt": "sharegpt.json", "qwen-vl": "qwen_vl.json"}
DATASET_NAME = "synth"  # LLaMA-Factory's dataset_info.json key
VSIBENCH = "vsibench"  # not a training format: VSI-Bench documents for lmms-eval (``synth.exports.vsibench``)


@dataclass(frozen=True)
class Media:
    """What a record shows: one video file, or sampled frames as image files (paths relative to
    OUT); ``settings``: keys a video record carries for its trainer (Qwen-VL's ``nframes``)."""

    video: str | None = None
    frames: tuple[str, ...] = ()
    settings: dict = field(default_factory=dict)


def _turns(questions: list[QA], token: str, traces: bool = False) -> list[dict]:
    """Alternating human/gpt turns, the media token(s) leading the first human turn; with
    ``traces``, each answer after its reasoning in a ``<think>`` block."""
    out = []
    for n, qa in enumerate(questions):
        reply = expected_reply(qa)
        if traces and qa.reasoning:
            reply = f"<think>\n{qa.reasoning}\n</think>\n{reply}"
        out.append({"from": "human", "value": (token if n == 0 else "") + prompt(qa)})
        out.append({"from": "gpt", "value": reply})
    return out


def record(fmt: str, record_id: str, questions: list[QA], media: Media, traces: bool = False) -> dict:
    """One training record of ``fmt`` for ``questions`` (several make a multi-turn record) about
    ``media``; ``traces``: each answer after its reasoning trace (``_turns``)."""
    n = len(media.frames)
    if fmt == "llava-video":
        token = "<image>\n" * n if n else "<image>\n"
        visual = {"image": list(media.frames)} if n else {"video": media.video}
        return {"id": record_id, **visual, "conversations": _turns(questions, token, traces), "data_source": "synth"}
    if fmt == "sharegpt":
        token = "<image>" * n if n else "<video>"
        visual = {"images": list(media.frames)} if n else {"videos": [media.video]}
        return {"conversations": _turns(questions, token, traces), **visual}
    if fmt == "qwen-vl":
        token = ("<image>" * n if n else "<video>") + "\n"
        visual = {"image": list(media.frames)} if n else {"video": media.video, **media.settings}
        return {"id": record_id, **visual, "conversations": _turns(questions, token, traces)}
    raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")


def dataset_info(records_file: str, records: list[dict]) -> dict:
    """LLaMA-Factory's ``dataset_info.json`` entry for the ShareGPT ``records``: the media
    columns they use (``images`` for frame lists, ``videos``)."""
    media = {c: c for c in ("images", "videos") if any(c in r for r in records)}
    return {
        DATASET_NAME: {
            "file_name": records_file,
            "formatting": "sharegpt",
            "columns": {"messages": "conversations", **media},
        }
    }
