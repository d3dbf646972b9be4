"""Batches of a synth dataset for ``torch.utils.data.DataLoader``: ``collate_fn=synth.storage.collate.collate``.

``datasets.load_dataset`` yields each sample's ``mp4`` as a torchcodec ``VideoDecoder`` (datasets 5.2, in the
default and the ``"torch"`` format, map-style or streaming). torch's ``default_collate`` cannot batch one
(``TypeError: default_collate: batch must contain tensors, ...; found <class '...VideoDecoder'>``), and a decoder
must not cross processes: pickled from a worker to the main process it still opens, but reading a frame then
fails (``Provided stream index=... was not previously added``) or reads freed memory. The ``json`` column cannot
be collated by default either (questions per sample differ in number; fields may be ``None``). :func:`collate`
decodes the frames in the worker that builds the batch and keeps the JSON as it was read.
"""

from __future__ import annotations

from typing import Any


def collate(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """One batch of B samples as a ``datasets`` dataset of synth yields them (any column subset).

    - ``mp4`` (a ``VideoDecoder``): every frame decoded, uint8 tensor (B, T, C, H, W) in the Video
      feature's ``dimension_order`` (default NCHW per frame: channels RGB). A synth dataset's videos share one
      frame count and size (one run configuration); videos of different shapes raise torch's stack error.
    - ``gt.npz``: ``{"depth_mm": (B, T, H, W), "instance": (B, T, H, W)}`` int64 tensors (millimetres of
      camera-space z, 0 = no surface; object ids, 0 = room), from lists (default format) or tensors (torch).
    - every other column (``json``, ``__key__``, ``__url__``, an undecoded ``mp4`` dict): a list of the B values
      as read.
    """
    import numpy as np
    import torch
    from torchcodec.decoders import VideoDecoder

    batch: dict[str, Any] = {}
    for column in samples[0]:
        values = [s[column] for s in samples]
        if isinstance(values[0], VideoDecoder):
            batch[column] = torch.stack([v.get_frames_in_range(0, len(v)).data for v in values])
        elif column == "gt.npz":
            batch[column] = {
                name: torch.stack([torch.as_tensor(np.asarray(v[name], dtype=np.int64)) for v in values])
                for name in values[0]
            }
        else:
            batch[column] = values
    return batch
