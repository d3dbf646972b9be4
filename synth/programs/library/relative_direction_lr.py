def answer(scene, a, b, frame):
    return scene.image_side(a, b, frame)
