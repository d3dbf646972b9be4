def answer(scene):
    first, last = scene.camera(0), scene.camera(scene.num_frames - 1)
    dx = last.position[0] - first.position[0]
    dy = last.position[1] - first.position[1]
    fx, fy = math.cos(first.heading), math.sin(first.heading)
    ahead = dx * fx + dy * fy
    left = -dx * fy + dy * fx
    if max(abs(ahead), abs(left)) < 0.3 or 0.5 * max(abs(ahead), abs(left)) < min(abs(ahead), abs(left)):
        return scene.drop("within the margin")
    if abs(ahead) >= abs(left):
        return "forward" if ahead > 0 else "backward"
    return "left" if left > 0 else "right"
