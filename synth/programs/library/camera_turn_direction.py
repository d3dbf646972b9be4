def answer(scene):
    start, end = scene.camera(0).heading, scene.camera(scene.num_frames - 1).heading
    turn = math.atan2(math.sin(end - start), math.cos(end - start))
    if not scene.margin(abs(turn), math.radians(10)):
        return scene.drop("within the margin")
    return "left" if turn > 0 else "right"
