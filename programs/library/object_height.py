def answer(scene, a):
    return round(scene.object(a).size[2], 2)
