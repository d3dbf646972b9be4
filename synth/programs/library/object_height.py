def answer(scene, a):
    if scene.object(a).size[2] < 0.12:
        return scene.drop("too flat: a height under 12 cm is not read to 10% in metres")
    if scene.extent_seen(a)[2] < 0.93 or not scene.top_seen(a):
        return scene.drop("whole height not seen")
    return round(scene.object(a).size[2], 2)
