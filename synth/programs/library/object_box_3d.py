def answer(scene, a, frame):
    if not scene.clearly_visible(a, frame):
        return scene.drop("not clearly visible in the frame")
    if min(scene.extent_seen(a)) < 0.9:
        return scene.drop("whole extent not seen")
    box = scene.camera_box(a, frame)
    return [round(v, 3) for v in box[:6]] + [round(v, 4) for v in box[6:]]
