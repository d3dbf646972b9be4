def answer(scene, a):
    if scene.motion(a) is not None:
        return scene.drop("moves")
    if min(scene.extent_seen(a)[:2]) < 0.5:
        return scene.drop("too little of it seen")
    ranked = sorted((scene.surface_distance(a, o.id), o.id) for o in scene.objects() if o.id != a)
    if len(ranked) < 2 or not scene.margin(ranked[1][0], ranked[0][0] * 1.5 + 0.15):
        return scene.drop("within the margin")
    best = ranked[0][1]
    if not scene.seen(best):
        return scene.drop("answer not seen")
    if scene.motion(best) is not None:
        return scene.drop("moves")
    if min(scene.extent_seen(best)[:2]) < 0.5:
        return scene.drop("too little of it seen")
    return best
