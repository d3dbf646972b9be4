def answer(scene):
    moved = [o.id for o in scene.objects(0) if scene.motion(o.id) is not None]
    if len(moved) != 1:
        return scene.drop("not exactly one object moves")
    if not scene.motion(moved[0]).visible:
        return scene.drop("motion not visible")
    return moved[0]
