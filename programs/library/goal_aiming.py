def answer(scene, a):
    cam = scene.camera(scene.num_frames - 1)
    target = scene.object(a, scene.num_frames - 1).center
    bearing = math.atan2(target[1] - cam.position[1], target[0] - cam.position[0])
    turn = math.degrees(math.atan2(math.sin(bearing - cam.heading), math.cos(bearing - cam.heading)))
    if abs(turn) < 10:
        return "straight ahead"
    if abs(turn) < 20 or abs(turn) > 170:
        return None
    return "turn left" if turn > 0 else "turn right"
