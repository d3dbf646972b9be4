def answer(scene, a, b, c, d, e):
    for o in (a, b, c, d, e):
        if scene.motion(o) is not None:
            return scene.drop("moves")
    ranked = sorted((scene.mesh_distance(a, o), o) for o in (b, c, d, e))
    best = ranked[0][1]
    unseen = scene.seen_mesh_distance(a, best) - ranked[0][0]
    if not scene.margin(ranked[1][0], 1.3 * (ranked[0][0] + unseen) + 0.2):
        return scene.drop("within the margin")
    return best
