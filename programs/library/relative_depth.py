def answer(scene, a, b, frame):
    if not (scene.is_visible(a, frame) and scene.is_visible(b, frame)):
        return None
    da, db = scene.project(a, frame).depth, scene.project(b, frame).depth
    if abs(da - db) < 0.15 * min(da, db):
        return None
    return a if da < db else b
