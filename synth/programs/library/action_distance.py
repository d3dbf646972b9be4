def answer(scene, a, move):
    if min(scene.extent_seen(a)[:2]) < 0.5:
        return scene.drop("too little of it seen")
    moved = scene.motion(a)
    if moved is not None and not moved.seen_after:
        return scene.drop("not seen where it ends up")
    cam = scene.camera(scene.num_frames - 1)
    target = scene.object(a, scene.num_frames - 1).center
    way = cam.heading + {"forward": 0.0, "backward": math.pi, "left": math.pi / 2, "right": -math.pi / 2}[move]
    x, y = cam.position[0], cam.position[1]
    nx, ny = x + math.cos(way), y + math.sin(way)
    before = math.hypot(target[0] - x, target[1] - y)
    after = math.hypot(target[0] - nx, target[1] - ny)
    if not scene.margin(abs(after - before), 0.3):
        return scene.drop("within the margin")
    return "closer" if after < before else "farther"
