def answer(scene, a, b):
    if min(scene.extent_seen(a)) < 0.7 or min(scene.extent_seen(b)) < 0.7:
        return None
    return round(math.dist(scene.object(a).center, scene.object(b).center), 2)
