def answer(scene, a):
    if scene.motion(a) is not None or min(scene.extent_seen(a)[:2]) < 0.5:
        return None  # a viewer needs to see where the object is, and it must stay there
    ranked = sorted((scene.surface_distance(a, o.id), o.id) for o in scene.objects() if o.id != a)
    if len(ranked) < 2 or ranked[1][0] < ranked[0][0] * 1.5 + 0.15:
        return None
    best = ranked[0][1]
    if not scene.seen(best) or scene.motion(best) is not None or min(scene.extent_seen(best)[:2]) < 0.5:
        return None
    return best
