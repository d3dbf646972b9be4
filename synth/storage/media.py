"""Encoding of per-sample media: H.264 video and compressed ground-truth passes."""

from __future__ import annotations

import io

import av
import numpy as np

from synth.core.scene import exact_rate

DEPTH_SCALE = 1000.0  # depth_mm = round(depth_m * 1000); 0 = no surface


def encode_mp4(rgb: np.ndarray, fps: float, crf: int = 20, mbtree: bool = False) -> bytes:
    """(F, H, W, 3) uint8 frames -> H.264 (yuv420p) mp4 bytes at exactly ``fps`` frames per
    second (a rational time base: 7.5 fps is stored as 15/2; ``ValueError`` for a rate no
    fraction with denominator <= 1001 equals). H and W must be even. ``mbtree``: x264's
    macroblock-tree rate control (its default; off here, see below): only the compression
    degradation turns it on, whose severities were calibrated with it."""
    n, h, w, _ = rgb.shape
    if h % 2 or w % 2:
        raise ValueError(f"H.264 yuv420p needs an even width and height, got {w}x{h}")
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=exact_rate(fps))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        # no macroblock-tree rate control: with Blender's libraries loaded in the same process,
        # x264's mbtree made the same frames encode to different bytes from call to call, and a
        # seed's dataset must be byte-identical however it is scheduled
        stream.options = {"crf": str(crf), "preset": "medium", "x264-params": f"mbtree={int(mbtree)}"}
        for frame in rgb:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")))
        container.mux(stream.encode())
    return buf.getvalue()


def decode_mp4(data: bytes) -> np.ndarray:
    """mp4 bytes -> (F, H, W, 3) uint8 frames."""
    with av.open(io.BytesIO(data)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def frame_indices(total: int, n: int) -> list[int]:
    """``n`` frame indices spread evenly from the first frame to the last (all if ``n >= total``)."""
    if n >= total:
        return list(range(total))
    return [int(round(x)) for x in np.linspace(0, total - 1, n)]


def sample_frames(mp4: bytes, n: int) -> np.ndarray:
    """(n, H, W, 3) uint8: ``n`` frames of the video spread evenly from its first to its last."""
    video = decode_mp4(mp4)
    return video[frame_indices(len(video), n)]


def jpeg(frame: np.ndarray, quality: int, max_side: int | None = None) -> bytes:
    """A (H, W, 3) uint8 frame as JPEG bytes, scaled down (aspect kept) to ``max_side`` pixels."""
    from PIL import Image

    image = Image.fromarray(frame)
    if max_side:
        image.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def frame_sheet(
    videos: list[bytes], n: int = 12, cols: int = 4, quality: int = 85, max_side: int | None = None
) -> bytes:
    """A JPEG contact sheet of ``n`` frames from ``videos`` (mp4 bytes): the same number from
    each video (spread over it, ``sample_frames``), the videos taken in turn, ``cols`` per row."""
    per = -(-n // max(1, len(videos)))
    frames = [f for mp4 in videos for f in sample_frames(mp4, per)]
    frames = [frames[i] for i in frame_indices(len(frames), n)]
    rows = -(-len(frames) // cols)
    h, w = frames[0].shape[:2]
    sheet = np.zeros((rows * h, cols * w, 3), np.uint8)
    for k, f in enumerate(frames):
        sheet[(k // cols) * h : (k // cols + 1) * h, (k % cols) * w : (k % cols + 1) * w] = f
    return jpeg(sheet, quality, max_side)


def encode_gt(depth: np.ndarray, instance: np.ndarray) -> bytes:
    """Depth (metres, inf = nothing) and instance ids -> compressed npz with
    ``depth_mm`` (uint16 millimetres, 0 = nothing) and ``instance`` (uint16 object ids)."""
    mm = np.where(np.isfinite(depth), np.round(depth * DEPTH_SCALE), 0)
    if mm.max(initial=0) > np.iinfo(np.uint16).max:
        raise ValueError("depth beyond 65.535 m cannot be stored as uint16 millimetres")
    buf = io.BytesIO()
    np.savez_compressed(buf, depth_mm=mm.astype(np.uint16), instance=instance.astype(np.uint16))
    return buf.getvalue()


def decode_gt(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """npz bytes -> depth in metres (inf = nothing) and instance ids."""
    with np.load(io.BytesIO(data)) as z:
        mm, inst = z["depth_mm"], z["instance"]
    depth = np.where(mm > 0, mm.astype(np.float32) / DEPTH_SCALE, np.inf).astype(np.float32)
    return depth, inst


def encode_views(rgb: np.ndarray, depth: np.ndarray, instance: np.ndarray) -> bytes:
    """Candidate views (``--settle-views``; V views): compressed npz with ``rgb`` (V, H, W, 3)
    uint8 sRGB and the passes as ``encode_gt`` stores them (``depth_mm``, ``instance``); no views:
    empty arrays (every sample of such a run has the file, as WebDataset readers need)."""
    mm = np.where(np.isfinite(depth), np.round(depth * DEPTH_SCALE), 0)
    buf = io.BytesIO()
    np.savez_compressed(
        buf, rgb=rgb.astype(np.uint8), depth_mm=mm.astype(np.uint16), instance=instance.astype(np.uint16)
    )
    return buf.getvalue()


def decode_views(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``encode_views`` bytes -> RGB (V, H, W, 3) uint8, depth in metres (inf = nothing), instance ids."""
    with np.load(io.BytesIO(data)) as z:
        rgb, mm, inst = z["rgb"], z["depth_mm"], z["instance"]
    return rgb, np.where(mm > 0, mm.astype(np.float32) / DEPTH_SCALE, np.inf).astype(np.float32), inst


NO_VIEWS = (np.zeros((0, 1, 1, 3), np.uint8), np.zeros((0, 1, 1), np.float32), np.zeros((0, 1, 1), np.uint16))
