"""Rotations: unit quaternions, 3x3 matrices, turns about +Z and rotation vectors (numpy).

Conventions (those of the scene model, ``synth.core.scene``):
- The world frame is right-handed with +Z up; an object's local frame has +X its front, +Y its
  left side, +Z up.
- A quaternion is ``(w, x, y, z)``, scalar first (as Blender and Habitat write it), unit length;
  it maps the local frame to the world frame, as does its 3x3 matrix ``R`` (columns: the local
  axes in world coordinates; ``x_world = R @ x_local``).
- ``yaw`` is the heading of local +X seen from above, radians, counter-clockwise from world +X:
  the rotation about +Z by ``yaw`` maps +X to ``(cos yaw, sin yaw, 0)``.
- A rotation vector is the axis times the angle (radians, right-hand rule).

Simulators with other frames (Habitat: +Y up; AI2-THOR: left-handed, +Y up, Unity Euler angles)
convert once, in their backend's ``format`` module, through these functions.
"""

from __future__ import annotations

import math

import numpy as np

Quat = tuple[float, float, float, float]  # (w, x, y, z), unit length

UPRIGHT_TOLERANCE = 1e-9  # a rotation is about +Z only when local +Z stays within this of world +Z


def yaw_quaternion(yaw: float) -> Quat:
    """The quaternion of the rotation about +Z by ``yaw`` radians."""
    return (math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))


def yaw_rotation(yaw: float) -> np.ndarray:
    """3x3 matrix of the rotation about +Z by ``yaw`` radians."""
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def quaternion_matrix(q, normalize: bool = False) -> np.ndarray:
    """Rotation matrix of a unit quaternion ``(w, x, y, z)``: one quaternion (a sequence of 4)
    -> (3, 3) float64, or an (..., 4) array -> (..., 3, 3) in the array's float dtype. With
    ``normalize`` the quaternion is scaled to unit length first (any non-zero length), else it is
    used as given."""
    if normalize:
        q = np.asarray(q) if isinstance(q, np.ndarray) else np.asarray(q, dtype=float)
        q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    batched = isinstance(q, np.ndarray) and q.ndim > 1
    w, x, y, z = (q[..., 0], q[..., 1], q[..., 2], q[..., 3]) if batched else (float(v) for v in q)
    entries = [
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ]  # fmt: skip
    if batched:
        return np.stack(entries, axis=-1).reshape(q.shape[:-1] + (3, 3))
    return np.array(entries).reshape(3, 3)


def matrix_quaternion(R) -> np.ndarray:
    """Unit quaternions ``(w, x, y, z)`` with ``w >= 0`` of proper rotation matrices: (3, 3) ->
    (4,), (..., 3, 3) -> (..., 4). Shepperd's method: of the four candidate rows ``4 q_k q``
    (k = w, x, y, z) the one with the largest ``q_k`` is normalised."""
    R = np.asarray(R)
    if R.dtype.kind != "f":
        R = R.astype(float)
    flat = R.reshape(-1, 9)
    m00, m01, m02, m10, m11, m12, m20, m21, m22 = flat.T
    tr = m00 + m11 + m22
    cand = np.stack(
        [
            np.stack([1 + tr, m21 - m12, m02 - m20, m10 - m01], 1),
            np.stack([m21 - m12, 1 + 2 * m00 - tr, m01 + m10, m02 + m20], 1),
            np.stack([m02 - m20, m01 + m10, 1 + 2 * m11 - tr, m12 + m21], 1),
            np.stack([m10 - m01, m02 + m20, m12 + m21, 1 + 2 * m22 - tr], 1),
        ],
        1,
    )
    q = cand[np.arange(len(flat)), np.argmax(np.diagonal(cand, axis1=1, axis2=2), 1)]
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    q = q * np.where(q[:, :1] < 0, -1.0, 1.0)
    return q.reshape(R.shape[:-2] + (4,))


def matrix_yaw(R) -> float:
    """Heading (radians) of a rotation matrix's local +X seen from above: ``atan2(R[1, 0], R[0, 0])``."""
    return math.atan2(R[1][0], R[0][0])


def quaternion_yaw(q: Quat) -> float:
    """Heading (radians, counter-clockwise from world +X) of a unit quaternion's local +X seen
    from above; exactly ``2 atan2(z, w)`` for a rotation about +Z."""
    w, x, y, z = q
    if x == 0.0 and y == 0.0:
        return 2.0 * math.atan2(z, w)
    return matrix_yaw(quaternion_matrix(q))


def is_upright(q: Quat) -> bool:
    """Whether a unit quaternion rotates about +Z only (local +Z stays up)."""
    return bool(quaternion_matrix(q)[2, 2] > 1 - UPRIGHT_TOLERANCE)


def turn_quaternions(yaw: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Quaternions (N, 4) turned by ``yaw`` (N,) radians about world +Z (the turn applied
    after them: ``yaw_quaternion(yaw) * q``)."""
    c, s = np.cos(yaw / 2), np.sin(yaw / 2)
    w, x, y, z = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    return np.stack([c * w - s * z, c * x - s * y, c * y + s * x, c * z + s * w], 1)


def quaternion_angle(q1, q2) -> float:
    """Angle (radians, in [0, pi]) of the rotation between two unit quaternions."""
    d = abs(float(np.dot(np.asarray(q1, float), np.asarray(q2, float))))
    return 2 * math.acos(min(1.0, d))


def rotation_log(R: np.ndarray) -> np.ndarray:
    """Rotation vector (3,) of a 3x3 rotation matrix (the inverse of :func:`rotation_exp`)."""
    cos = np.clip((np.trace(R) - 1.0) / 2.0, -1.0, 1.0)
    angle = np.arccos(cos)
    w = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]])
    if angle < 1e-8:
        return w / 2.0
    if np.pi - angle < 1e-6:  # near pi: axis from the symmetric part
        axis = np.sqrt(np.clip((np.diag(R) + 1.0) / 2.0, 0.0, None))
        axis *= np.where(w >= 0, 1.0, -1.0)
        return axis / np.linalg.norm(axis) * angle
    return w * angle / (2.0 * np.sin(angle))


def rotation_exp(v: np.ndarray) -> np.ndarray:
    """3x3 rotation matrix of a rotation vector (3,) (Rodrigues' formula)."""
    angle = np.linalg.norm(v)
    if angle < 1e-12:
        return np.eye(3)
    k = v / angle
    Kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle) * Kx + (1 - np.cos(angle)) * Kx @ Kx


def euler_matrix(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """3x3 matrix ``Rz(yaw) @ Ry(pitch) @ Rx(roll)`` (radians; intrinsic z-y'-x'', scipy's
    ``Rotation.from_euler("ZYX", [yaw, pitch, roll])``): the rotation of a 9-DoF box
    (``synth.core.records.Grounding``)."""
    cr, sr, cp, sp, cy, sy = (f(a) for a in (roll, pitch, yaw) for f in (math.cos, math.sin))
    return np.array(
        [
            [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
            [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
            [-sp, cp * sr, cp * cr],
        ]
    )


def matrix_euler(R) -> tuple[float, float, float]:
    """``(roll, pitch, yaw)`` radians of a rotation matrix, the inverse of :func:`euler_matrix`
    (pitch in [-pi/2, pi/2]; at pitch = +-pi/2, where roll and yaw share one axis, roll = 0)."""
    R = np.asarray(R, dtype=float)
    pitch = math.asin(max(-1.0, min(1.0, -R[2, 0])))
    if abs(R[2, 0]) > 1 - 1e-12:
        return 0.0, pitch, math.atan2(-R[0, 1], R[1, 1])
    return math.atan2(R[2, 1], R[2, 2]), pitch, math.atan2(R[1, 0], R[0, 0])
