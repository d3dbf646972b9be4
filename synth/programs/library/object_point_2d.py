def answer(scene, a, frame, coords):
    if not scene.clearly_visible(a, frame):
        return scene.drop("not clearly visible in the frame")
    x, y, r = scene.inner_point(a, frame)
    if r < 0.03 * math.hypot(scene.width, scene.height):
        return scene.drop("too thin to point at")
    if coords == "pixel":
        return [x, y]
    return [round(1000 * x / scene.width), round(1000 * y / scene.height)]
