def answer(scene, a, b, frame):
    if not (scene.is_visible(a, frame) and scene.is_visible(b, frame)):
        return scene.drop("not both visible in the frame")
    da, db = scene.visible_depth(a, frame), scene.visible_depth(b, frame)
    if da is None or db is None or not scene.margin(abs(da - db), 0.15 * min(da, db)):
        return scene.drop("within the margin")
    return a if da < db else b
