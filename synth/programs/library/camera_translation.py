def answer(scene):
    d = math.dist(scene.camera(0).position, scene.camera(scene.num_frames - 1).position)
    if d < 0.2:
        return scene.drop("within the margin")
    return round(d, 2)
