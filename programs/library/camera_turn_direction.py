def answer(scene):
    start, end = scene.camera(0).heading, scene.camera(scene.num_frames - 1).heading
    turn = math.atan2(math.sin(end - start), math.cos(end - start))
    if abs(turn) < math.radians(10):
        return None
    return "left" if turn > 0 else "right"
