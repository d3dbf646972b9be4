"""The small protocol between synth and a habitat-sim worker process (stdin/stdout pipes).

habitat-sim comes from conda and does not share a Python with bpy, so the renderer runs it in
its own interpreter. This module is imported by both sides and needs only the standard library
and numpy. A message is a frame ``u32 length`` + UTF-8 JSON header, followed by one frame per
array the header lists (``"arrays": [{"name", "dtype", "shape"}]``, C-order bytes); lengths are
big-endian. Requests (synth -> worker) and replies (worker -> synth):

- ``{"op": "hello"}`` -> ``{"ok": true, "engine": str, "version": str}``
- ``{"op": "open", "dataset": path, "scene": handle, "width": W, "height": H, "hfov_deg": f,
  "gpu_device_id": int}`` -> ``{"ok": true}``
- ``{"op": "render", "frames": [{"agent_state": {"position": [x, y, z], "rotation": [w, x, y, z]},
  "hfov_deg": f, "objects": [{"synth_id", "translation", "rotation"}]}]}`` (Habitat world, +Y
  up; ``hfov_deg`` the frame's horizontal field of view) ->
  ``{"ok": true}`` with arrays ``rgb`` (F, H, W, 3) uint8, ``depth`` (F, H, W) float32 metres
  (planar; inf where nothing was hit) and ``instance`` (F, H, W) uint16 synth ids (0 = room)
- ``{"op": "close"}`` -> ``{"ok": true}``, then the worker exits.

Any failure replies ``{"ok": false, "error": "one line"}``.
"""

from __future__ import annotations

import json
import struct
from typing import BinaryIO

import numpy as np

_LEN = struct.Struct(">I")
NOT_IMPORTABLE = "habitat-sim is not importable here"  # the worker's reply when it cannot start habitat-sim
CONDA_INSTALL = (
    "conda create -n habitat python=3.9 && conda install -n habitat habitat-sim headless -c conda-forge -c aihabitat; "
    "then set SYNTH_HABITAT_PYTHON to that environment's python"
)


class ProtocolError(RuntimeError):
    """The other side closed the pipe or sent something that is not a message."""


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise ProtocolError("the other side closed the pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _frame(stream: BinaryIO, data: bytes) -> None:
    stream.write(_LEN.pack(len(data)))
    stream.write(data)


def send(stream: BinaryIO, header: dict, arrays: dict[str, np.ndarray] | None = None) -> None:
    arrays = {k: np.ascontiguousarray(v) for k, v in (arrays or {}).items()}
    head = {**header, "arrays": [{"name": k, "dtype": str(v.dtype), "shape": list(v.shape)} for k, v in arrays.items()]}
    _frame(stream, json.dumps(head).encode())
    for v in arrays.values():
        _frame(stream, v.tobytes())
    stream.flush()


def receive(stream: BinaryIO) -> tuple[dict, dict[str, np.ndarray]]:
    (n,) = _LEN.unpack(_read_exact(stream, _LEN.size))
    try:
        header = json.loads(_read_exact(stream, n))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ProtocolError(f"not a protocol message: {e}") from None
    arrays = {}
    for spec in header.pop("arrays", []):
        (m,) = _LEN.unpack(_read_exact(stream, _LEN.size))
        arrays[spec["name"]] = np.frombuffer(_read_exact(stream, m), dtype=spec["dtype"]).reshape(spec["shape"])
    return header, arrays
