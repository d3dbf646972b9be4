def answer(scene, a):
    start, end = scene.object(a, 0).center, scene.object(a, scene.num_frames - 1).center
    cam = scene.camera(0)
    dx, dy = end[0] - start[0], end[1] - start[1]
    if math.hypot(dx, dy) < 0.15:
        return None
    fx, fy = math.cos(cam.heading), math.sin(cam.heading)
    away = dx * fx + dy * fy
    left = -dx * fy + dy * fx
    if 0.5 * max(abs(away), abs(left)) < min(abs(away), abs(left)):
        return None
    if abs(away) >= abs(left):
        return "away from the camera" if away > 0 else "toward the camera"
    return "to the left" if left > 0 else "to the right"
