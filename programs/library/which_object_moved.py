def answer(scene):
    moved = [o.id for o in scene.objects(0) if scene.motion(o.id) is not None]
    if len(moved) != 1 or not scene.motion(moved[0]).visible:
        return None
    return moved[0]
