def answer(scene, a):
    m = scene.motion(a)
    if m is None or not m.visible:
        return None
    cam = scene.camera(0)
    dx, dy = m.end[0] - m.start[0], m.end[1] - m.start[1]
    if math.hypot(dx, dy) < 0.25:
        return None
    fx, fy = math.cos(cam.heading), math.sin(cam.heading)
    away = dx * fx + dy * fy
    left = -dx * fy + dy * fx
    if 0.4 * max(abs(away), abs(left)) < min(abs(away), abs(left)):
        return None
    if abs(away) >= abs(left):
        return "away from the camera" if away > 0 else "toward the camera"
    return "to the left" if left > 0 else "to the right"
