"""Degraded variants: :func:`discernible` tells, per frame and object, whether the delivered video
still shows an object against its surroundings, measured against the clean video with the
auditor's own statistic (contrast, kept contrast, structure correlation, Rose's SNR)."""

from __future__ import annotations

import numpy as np

PLAIN_CONTRAST = 8.0  # luminance levels (of 255) between an object and its surroundings: plainly there
FAINT_CONTRAST = 2.0  # below this it cannot be made out
PLAIN_KEPT = 0.5  # share of its clean contrast the delivered frame keeps (fog lowers it: then undecided)
PLAIN_ROSE = 30.0  # contrast x sqrt(pixels) / noise: far above Rose's detection threshold (~5)
FAINT_ROSE = 5.0
PLAIN_STRUCTURE = 0.7  # correlation of the object and its ring with the clean video's: its shape is kept
FAINT_STRUCTURE = 0.3
RING = 3  # pixels around the mask that count as its surroundings


def discernible(delivered: np.ndarray, clean: np.ndarray, instance: np.ndarray, meta: dict) -> np.ndarray:
    """(F, max id + 1): 1 where the delivered frame plainly shows the object, 0 where it cannot be
    made out, 0.5 in between (the auditor does not decide there). Measured on the decoded videos
    (3x3 mean) in each colour channel in which the object stands out plainly in the clean video
    (the best of them counts: a degradation can take one channel's contrast and leave another's,
    overexposure clipping red and green, fog greying blue; where none does, 0.5): its contrast
    against a ring of its surroundings, the share of its clean contrast that is kept, the
    correlation of the object and its ring with the clean video's, and Rose's SNR (contrast x
    sqrt(pixels) / the noise the delivered frame adds). Degradations that move pixels (lens
    distortion) are not compared to the clean video: every object counts as shown."""
    from scipy import ndimage

    n = instance.shape[0]
    size = int(instance.max(initial=0)) + 1
    shown = np.ones((n, size))
    if (meta.get("degradation") or {}).get("type") == "lens_distortion":
        return shown
    for f in range(n):
        d, c = delivered[f].astype(float), clean[f].astype(float)
        c3 = ndimage.uniform_filter(c, (3, 3, 1))
        boxes = ndimage.find_objects(instance[f].astype(np.int64))
        for o, box in enumerate(boxes, start=1):
            if box is None:
                continue
            ys, xs = (slice(max(0, b.start - RING - 2), b.stop + RING + 2) for b in box)
            mask = instance[f][ys, xs] == o
            ring = ndimage.binary_dilation(mask, iterations=RING) & ~mask
            if not ring.any():
                continue
            near = mask | ring
            contrast_c = np.abs(c3[ys, xs][mask].mean(0) - c3[ys, xs][ring].mean(0))
            plain = np.flatnonzero(contrast_c >= PLAIN_CONTRAST)
            # hard to see in the clean video too (no channel in which it plainly stands out): no judgement
            shown[f, o] = max((_verdict(d[ys, xs, k], c[ys, xs, k], mask, ring, near) for k in plain), default=0.5)
    return shown


def _verdict(d: np.ndarray, c: np.ndarray, mask: np.ndarray, ring: np.ndarray, near: np.ndarray) -> float:
    """1, 0.5 or 0 (see :func:`discernible`) in one colour channel: ``d``, ``c`` the delivered and
    clean channel around the object, ``mask`` its pixels, ``ring`` its surroundings, ``near`` both."""
    from scipy import ndimage

    dk, ck = ndimage.uniform_filter(d, 3), ndimage.uniform_filter(c, 3)
    contrast_d = abs(dk[mask].mean() - dk[ring].mean())
    contrast_c = abs(ck[mask].mean() - ck[ring].mean())
    pd, pc = dk[near], ck[near]
    r = float(np.corrcoef(pd, pc)[0, 1]) if pd.std() > 1e-6 and pc.std() > 1e-6 else 1.0
    # per-pixel noise: high frequencies the delivered frame has beyond the clean one's
    hd, hc = d - dk, c - ck
    noise = np.sqrt(max(float(hd[near].var() - hc[near].var()), 0.0) * 9 / 8)
    rose = contrast_d * np.sqrt(mask.sum()) / max(noise, 1.0)  # Rose's SNR of the object's mean
    kept = contrast_d / contrast_c
    pattern = float(np.sqrt(((dk[mask] - dk[ring].mean()) ** 2).mean()))  # its outline and inner detail too
    # cannot be made out: no contrast left, or neither its shape nor its mean stands out of the noise
    if max(contrast_d, pattern) < FAINT_CONTRAST or (r < FAINT_STRUCTURE and rose < FAINT_ROSE):
        return 0.0
    if contrast_d < PLAIN_CONTRAST or kept < PLAIN_KEPT or r < PLAIN_STRUCTURE or rose < PLAIN_ROSE:
        return 0.5
    return 1.0
