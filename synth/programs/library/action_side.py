def answer(scene, a, turn):
    if min(scene.extent_seen(a)[:2]) < 0.5:
        return scene.drop("too little of it seen")
    moved = scene.motion(a)
    if moved is not None and not moved.seen_after:
        return scene.drop("not seen where it ends up")
    cam = scene.camera(scene.num_frames - 1)
    target = scene.object(a, scene.num_frames - 1).center
    if math.hypot(target[0] - cam.position[0], target[1] - cam.position[1]) < 1.0:
        return scene.drop("too close")
    heading = cam.heading + (math.pi / 2 if turn == "left" else -math.pi / 2)
    bearing = math.atan2(target[1] - cam.position[1], target[0] - cam.position[0])
    angle = math.degrees(math.atan2(math.sin(bearing - heading), math.cos(bearing - heading)))
    if not scene.margin(abs(abs(angle) - 90), 15):
        return scene.drop("within the margin")
    return "in front" if abs(angle) < 90 else "behind"
