def answer(scene, a, turn):
    cam = scene.camera(scene.num_frames - 1)
    target = scene.object(a, scene.num_frames - 1).center
    heading = cam.heading + (math.pi / 2 if turn == "left" else -math.pi / 2)
    bearing = math.atan2(target[1] - cam.position[1], target[0] - cam.position[0])
    angle = math.degrees(math.atan2(math.sin(bearing - heading), math.cos(bearing - heading)))
    if abs(angle) < 15 or abs(angle) > 165:
        return None
    return "left" if angle > 0 else "right"
