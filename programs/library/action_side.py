def answer(scene, a, turn):
    if min(scene.extent_seen(a)[:2]) < 0.5:
        return None
    moved = scene.motion(a)
    if moved is not None and not moved.visible:
        return None  # where it ended up is not shown
    cam = scene.camera(scene.num_frames - 1)
    target = scene.object(a, scene.num_frames - 1).center
    if math.hypot(target[0] - cam.position[0], target[1] - cam.position[1]) < 1.0:
        return None
    heading = cam.heading + (math.pi / 2 if turn == "left" else -math.pi / 2)
    bearing = math.atan2(target[1] - cam.position[1], target[0] - cam.position[0])
    angle = math.degrees(math.atan2(math.sin(bearing - heading), math.cos(bearing - heading)))
    if abs(angle) < 25 or abs(angle) > 155:
        return None
    return "left" if angle > 0 else "right"
