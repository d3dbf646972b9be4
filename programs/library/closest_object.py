def answer(scene, a):
    ranked = sorted((scene.surface_distance(a, o.id), o.id) for o in scene.objects() if o.id != a)
    if len(ranked) < 2 or ranked[1][0] < ranked[0][0] * 1.5 + 0.15:
        return None
    if not scene.seen(ranked[0][1]):
        return None
    return ranked[0][1]
