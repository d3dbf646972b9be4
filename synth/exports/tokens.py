"""How many tokens a record costs a model family: its media (from each model's own patching
rules) plus its text (estimated), for ``synth export --max-tokens``.

- ``qwen2-vl`` (Qwen2-VL and Qwen2.5-VL: 14-pixel patches merged 2x2, so one token per 28x28
  pixels; two frames per temporal patch), sizes as ``qwen-vl-utils`` 0.0.14 resizes them
  (``vision_process.smart_resize``: sides rounded to multiples of 28 within a pixel range): an
  image is resized within [4, 16384] tokens' pixels; a video of ``n`` frames within [128, 768]
  tokens' pixels per frame, and at most ``0.9 * 128000`` tokens' pixels over the whole clip
  (``MODEL_SEQ_LEN``), and costs ``n / 2`` times a frame's tokens.
- ``llava-video`` (LLaVA-Video-7B-Qwen2: SigLIP-so400m at 384 px with 14-pixel patches, a 27x27
  grid pooled with stride 2): 196 tokens per frame, image or video.
- Text: about four characters per token (an estimate; the tokenizer decides).
"""

from __future__ import annotations

import math

MODELS = ("qwen2-vl", "llava-video")
QWEN_FACTOR = 28  # pixels per token side (patch 14, merge 2)
QWEN_PIXELS = QWEN_FACTOR * QWEN_FACTOR
QWEN_IMAGE_TOKENS = (4, 16384)
QWEN_VIDEO_TOKENS = (128, 768)
QWEN_VIDEO_TOTAL = 128000 * QWEN_PIXELS * 0.9
LLAVA_VIDEO_FRAME_TOKENS = 196  # ceil(27 / 2) ** 2
CHARS_PER_TOKEN = 4


def smart_resize(height: int, width: int, min_pixels: float, max_pixels: float) -> tuple[int, int]:
    """(height, width) in pixels as Qwen-VL resizes an image or frame: each side a multiple of 28,
    the area within [min_pixels, max_pixels], the aspect ratio nearly kept."""
    f = QWEN_FACTOR
    h, w = max(f, round(height / f) * f), max(f, round(width / f) * f)
    if h * w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h, w = max(f, math.floor(height / beta / f) * f), max(f, math.floor(width / beta / f) * f)
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h, w = math.ceil(height * beta / f) * f, math.ceil(width * beta / f) * f
    return h, w


def media_tokens(model: str, video: bool, frames: int, height: int, width: int) -> int:
    """Tokens of one record's media for ``model``: a video of ``frames`` frames (``video``) or
    ``frames`` images, each ``height`` x ``width`` pixels."""
    if model == "llava-video":
        return LLAVA_VIDEO_FRAME_TOKENS * frames
    if model != "qwen2-vl":
        raise ValueError(f"unknown model family {model!r}; use one of {', '.join(MODELS)}")
    if not video:
        h, w = smart_resize(height, width, QWEN_IMAGE_TOKENS[0] * QWEN_PIXELS, QWEN_IMAGE_TOKENS[1] * QWEN_PIXELS)
        return frames * (h * w // QWEN_PIXELS)
    low = QWEN_VIDEO_TOKENS[0] * QWEN_PIXELS
    high = max(min(QWEN_VIDEO_TOKENS[1] * QWEN_PIXELS, QWEN_VIDEO_TOTAL / frames * 2), int(low * 1.05))
    h, w = smart_resize(height, width, low, high)
    return math.ceil(frames / 2) * (h * w // QWEN_PIXELS)


def text_tokens(text: str) -> int:
    """An estimate of the tokens of ``text`` (four characters each)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)
