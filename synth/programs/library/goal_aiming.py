def answer(scene, a):
    if min(scene.extent_seen(a)[:2]) < 0.5:
        return scene.drop("too little of it seen")
    moved = scene.motion(a)
    if moved is not None and not moved.seen_after:
        return scene.drop("not seen where it ends up")
    cam = scene.camera(scene.num_frames - 1)
    target = scene.object(a, scene.num_frames - 1).center
    if math.hypot(target[0] - cam.position[0], target[1] - cam.position[1]) < 1.0:
        return scene.drop("too close")
    bearing = math.atan2(target[1] - cam.position[1], target[0] - cam.position[0])
    turn = math.degrees(math.atan2(math.sin(bearing - cam.heading), math.cos(bearing - cam.heading)))
    if abs(turn) < 8:
        return "straight ahead"
    if not (scene.margin(abs(turn), 25) and scene.margin(180 - abs(turn), 15)):
        return scene.drop("within the margin")
    return "turn left" if turn > 0 else "turn right"
