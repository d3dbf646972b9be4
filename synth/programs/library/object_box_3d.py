def answer(scene, a, frame):
    if not scene.clearly_visible(a, frame):
        return scene.drop("not clearly visible in the frame")
    box = scene.camera_box(a, frame)
    return [round(v, 3) for v in box[:6]] + [round(v, 4) for v in box[6:]]
