def answer(scene):
    start, end = scene.camera(0).heading, scene.camera(scene.num_frames - 1).heading
    turn = abs(math.degrees(math.atan2(math.sin(end - start), math.cos(end - start))))
    if not scene.margin(turn, 10):
        return scene.drop("within the margin")
    return round(turn)
