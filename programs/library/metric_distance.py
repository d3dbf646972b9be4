def answer(scene, a, b):
    return round(math.dist(scene.object(a).center, scene.object(b).center), 2)
