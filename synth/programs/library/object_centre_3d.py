def answer(scene, a, frame):
    if not scene.clearly_visible(a, frame):
        return scene.drop("not clearly visible in the frame")
    if min(scene.extent_seen(a)) < 0.9:
        return scene.drop("whole extent not seen")
    return [round(v, 3) for v in scene.camera_box(a, frame)[:3]]
