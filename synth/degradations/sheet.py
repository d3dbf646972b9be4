"""Contact sheet: one frame under every degradation type (rows) and severity (columns)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from synth.core.render_types import FrameBuffers
from synth.core.scene import Episode
from synth.degradations.base import SEVERITIES
from synth.degradations.gaussians import EpisodeSplats, build_splats

LABEL_W, LABEL_H = 110, 18


def contact_sheet(
    episode: Episode,
    buffers: FrameBuffers,
    frame: int | None = None,
    kinds: Sequence[str] | None = None,
    severities: Sequence[int] = SEVERITIES,
    seed: int = 0,
    cell_width: int = 160,
    splats: EpisodeSplats | None = None,
    path: str | Path | None = None,
) -> np.ndarray:
    """(H, W, 3) uint8 grid: a clean column, then each severity, one row per type; written
    as PNG to ``path`` when given. ``frame`` defaults to the one showing the most objects."""
    from synth.degradations import DEGRADATIONS, degrade

    kinds = list(DEGRADATIONS) if kinds is None else list(kinds)
    if frame is None:
        min_px = 0.002 * episode.width * episode.height
        shown = [
            sum(episode.visible_pixels(o.id)[f] >= min_px for o in episode.scene.objects)
            for f in range(len(episode.frames))
        ]
        frame = int(np.argmax(shown))
    splats = splats or build_splats(episode, buffers)
    cell_h = round(cell_width * episode.height / episode.width)

    def cell(rgb: np.ndarray) -> Image.Image:
        return Image.fromarray(rgb).resize((cell_width, cell_h), Image.Resampling.LANCZOS)

    sheet = Image.new("RGB", (LABEL_W + cell_width * (len(severities) + 1), LABEL_H + cell_h * len(kinds)), "white")
    draw = ImageDraw.Draw(sheet)
    for c, title in enumerate(["clean", *(f"severity {s}" for s in severities)]):
        draw.text((LABEL_W + c * cell_width + 4, 3), title, fill="black")
    for r, kind in enumerate(kinds):
        y = LABEL_H + r * cell_h
        draw.text((4, y + cell_h // 2 - 6), kind, fill="black")
        sheet.paste(cell(buffers.rgb[frame]), (LABEL_W, y))
        for c, s in enumerate(severities):
            rgb = degrade(episode, buffers, kind, s, seed, frames=[frame], splats=splats).rgb[0]
            sheet.paste(cell(rgb), (LABEL_W + (c + 1) * cell_width, y))
    out = np.asarray(sheet)
    if path is not None:
        sheet.save(path, optimize=True)
    return out
