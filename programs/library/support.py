def answer(scene, a):
    return scene.object(a).supported_by
