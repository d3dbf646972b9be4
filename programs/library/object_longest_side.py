def answer(scene, a):
    return round(max(scene.object(a).size) * 100)
