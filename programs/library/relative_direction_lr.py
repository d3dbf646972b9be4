def answer(scene, a, b, frame):
    if not (scene.is_visible(a, frame) and scene.is_visible(b, frame)):
        return None
    pa, pb = scene.project(a, frame), scene.project(b, frame)
    if abs(pa.u - pb.u) < 0.08 * scene.width:
        return None
    return "left" if pa.u < pb.u else "right"
