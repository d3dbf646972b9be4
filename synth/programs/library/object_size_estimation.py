def answer(scene, a):
    size = scene.object(a).size
    axis = size.index(max(size))
    if scene.extent_seen(a)[axis] < 0.93:
        return scene.drop("whole extent not seen")
    return round(max(size) * 100)
