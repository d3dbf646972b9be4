def answer(scene, a):
    if scene.motion(a) is not None:
        return scene.drop("moves")
    if not scene.bottom_seen(a):
        return scene.drop("contact not seen")
    below = scene.object(a).supported_by
    if below != 0:
        if not scene.top_seen(below):
            return scene.drop("support's top not seen")
        shared = [f for f in range(scene.num_frames) if scene.is_visible(a, f) and scene.is_visible(below, f)]
        if not shared:
            return scene.drop("never seen together")
    return below
