def answer(scene, a):
    m = scene.motion(a)
    if m is None:
        return scene.drop("does not move")
    if not m.visible:
        return scene.drop("motion not visible")
    cam = scene.camera(0)
    dx, dy = m.end[0] - m.start[0], m.end[1] - m.start[1]
    if math.hypot(dx, dy) < 0.25:
        return scene.drop("within the margin")
    fx, fy = math.cos(cam.heading), math.sin(cam.heading)
    away = dx * fx + dy * fy
    left = -dx * fy + dy * fx
    if 0.4 * max(abs(away), abs(left)) < min(abs(away), abs(left)):
        return scene.drop("within the margin")
    if abs(away) >= abs(left):
        return "away from the camera" if away > 0 else "toward the camera"
    return "to the left" if left > 0 else "to the right"
