"""Which frames of a sample's video a trainer shows the model, and the settings that make it so.

Trainers resample videos by their own rules, so an export states its sampling and writes the
settings under which each trainer shows exactly the frames it says (indices into the delivered
video, 0-based, ascending):

- ``--frames N``: N frames spread evenly from the first to the last
  (``synth.storage.media.frame_indices``), written as image files: every trainer shows exactly
  those (an explicit frame list).
- ``--fps F``: the frames at F per second of video (``round(frames / fps * F)`` of them, spread
  evenly), as image files; F below 1 is fine (never a sampling step of 0).
- neither: the video as shipped, every frame shown, with each trainer's settings:

  * Qwen-VL (``qwen-vl-utils`` 0.0.14, ``vision_process.smart_nframes``): the record's ``nframes``
    (a message key of the video element); qwen-vl-utils rounds it to a multiple of 2 and takes
    ``linspace(0, total - 1, nframes).round()``, so an odd frame count leaves one frame out.
  * LLaMA-Factory (0.9.5, ``mm_plugin._get_video_sample_indices``): training arguments
    ``video_fps`` = the video's rate and ``video_maxlen`` = its frame count
    (``min(total, video_maxlen, floor(duration * video_fps))`` frames, ``linspace(...).astype(int)``).
  * LLaVA-Video (``LLaVA-NeXT`` ``llava/train/train.py``, ``process_video_with_decord``): data
    arguments ``video_fps`` (an integer: the step is ``round(avg_fps / video_fps)``) and
    ``frames_upbound`` = the frame count.

  A video below 1 fps, or of one frame, is exported as an explicit frame list instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from synth.evaluation.prompt import name_frame
from synth.programs.family import QA
from synth.storage.media import frame_indices

FRAME_FACTOR = 2  # qwen-vl-utils: nframes is a multiple of 2 (temporal patches of two frames)


@dataclass(frozen=True)
class Sampling:
    """What a trainer shows of one sample's video.

    ``media``: ``"video"`` (the mp4 as shipped) or ``"frames"`` (image files of ``indices``);
    ``indices``: the frames shown, 0-based into the delivered video; ``total``, ``fps``: the
    delivered video's frame count and rate; ``record``: keys the record carries (Qwen-VL's
    ``nframes``); ``trainer``: the training arguments the trainer must be given (export.json)."""

    media: str
    indices: tuple[int, ...]
    total: int
    fps: float
    record: dict = field(default_factory=dict)
    trainer: dict = field(default_factory=dict)

    def moment(self, frame: int) -> str:
        """How a question names delivered frame ``frame`` (which must be shown): its position in
        the exported frame list (1-based, "frame 3"), or its time in the video ("the frame at 1.38 s")."""
        if self.media == "frames":
            return f"frame {self.indices.index(frame) + 1}"
        return f"the frame at {frame / self.fps:.2f} s"


def _video(fmt: str, total: int, fps: float, n: int | None = None) -> Sampling:
    """The video as shipped, with the settings under which ``fmt``'s trainer shows ``n`` of its
    frames (default: every frame it can)."""
    n = total if n is None else min(n, total)
    if fmt == "qwen-vl":
        n = max(FRAME_FACTOR, n - n % FRAME_FACTOR)
        return Sampling("video", tuple(frame_indices(total, n)), total, fps, record={"nframes": n})
    floor = tuple(int(x) for x in np.linspace(0, total - 1, n)) if n < total else tuple(range(total))
    if fmt == "sharegpt":
        return Sampling("video", floor, total, fps, trainer={"video_fps": fps, "video_maxlen": n})
    if fmt == "llava-video":
        step_fps = max(1, round(fps))  # round(fps / step_fps) == 1 for any fps >= 1: every frame, then n of them
        return Sampling("video", floor, total, fps, trainer={"video_fps": step_fps, "frames_upbound": n})
    raise ValueError(f"unknown export format {fmt!r}")


def choose(fmt: str, total: int, rate: float, frames: int | None = None, fps: float | None = None) -> Sampling:
    """The sampling of a ``total``-frame video at ``rate`` frames per second for format ``fmt``
    (module docstring); ``frames`` (``--frames``) and ``fps`` (``--fps``) exclude each other."""
    if frames is not None and fps is not None:
        raise ValueError("give --frames or --fps, not both")
    if frames is not None and frames < 1:
        raise ValueError("--frames must be at least 1")
    if fps is not None:
        if not fps > 0:
            raise ValueError("--fps must be above 0")
        frames = max(1, round(total / rate * fps))
    if frames is None and (rate < 1 or total < FRAME_FACTOR):
        frames = total
    if frames is not None:
        return Sampling("frames", tuple(frame_indices(total, frames)), total, rate)
    return _video(fmt, total, rate)


def under(sampling: Sampling, trainer: dict) -> Sampling | None:
    """``sampling`` under other trainer settings of its format (an export's, set once for all its
    records) where they show the same frames: the same rate and a frame cap at least as high (a
    shorter video, a streaming item's prefix, is shown whole); None where they do not."""
    cap = {"video_maxlen", "frames_upbound"}
    same_rate = trainer.get("video_fps") == sampling.trainer.get("video_fps") and set(trainer) == set(sampling.trainer)
    if sampling.media != "video" or not same_rate:
        return None
    if any(trainer[k] < len(sampling.indices) for k in cap & set(trainer)):
        return None
    return replace(sampling, trainer=dict(trainer))


def fewer(fmt: str, sampling: Sampling, frames: int) -> Sampling:
    """``sampling`` lowered to ``frames`` frames: Qwen-VL's video keeps its video (a smaller
    ``nframes``, set per record); otherwise an explicit frame list (the other trainers' video
    settings hold for a whole export)."""
    if sampling.media == "video" and fmt == "qwen-vl":
        return _video(fmt, sampling.total, sampling.fps, frames)
    return Sampling("frames", tuple(frame_indices(sampling.total, frames)), sampling.total, sampling.fps)


def reword(qa: QA, sampling: Sampling) -> QA | None:
    """``qa`` as it reads beside the shown frames: a question about one frame names it as
    ``Sampling.moment`` does (``synth.evaluation.prompt.name_frame``); None when that frame is not shown."""
    if "frame" not in qa.slots:
        return qa
    frame = int(qa.slots["frame"])
    return name_frame(qa, sampling.moment(frame)) if frame in sampling.indices else None
