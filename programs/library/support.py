def answer(scene, a):
    if scene.motion(a) is not None:
        return None
    if not scene.bottom_seen(a):
        return None
    below = scene.object(a).supported_by
    if below != 0:
        if not scene.top_seen(below):
            return None
        shared = [f for f in range(scene.num_frames) if scene.is_visible(a, f) and scene.is_visible(below, f)]
        if not shared:
            return None
    return below
