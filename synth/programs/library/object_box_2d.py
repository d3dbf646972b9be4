def answer(scene, a, frame, coords):
    if not scene.clearly_visible(a, frame):
        return scene.drop("not clearly visible in the frame")
    u0, v0, u1, v1 = scene.mask_box(a, frame)
    box = [u0, v0, u1 + 1, v1 + 1]
    if coords == "pixel":
        return box
    sizes = (scene.width, scene.height, scene.width, scene.height)
    return [round(1000 * x / s) for x, s in zip(box, sizes)]
