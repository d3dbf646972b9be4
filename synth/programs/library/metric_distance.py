def answer(scene, a, b):
    if scene.motion(a) is not None or scene.motion(b) is not None:
        return scene.drop("moves")
    if min(scene.extent_seen(a)) < 0.8 or min(scene.extent_seen(b)) < 0.8:
        return scene.drop("too little of it seen")
    return round(math.dist(scene.object(a).center, scene.object(b).center), 2)
