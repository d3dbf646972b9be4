def answer(scene, a):
    if scene.extent_seen(a)[2] < 0.93 or not scene.top_seen(a):
        return scene.drop("whole height not seen")
    return round(scene.object(a).size[2], 2)
