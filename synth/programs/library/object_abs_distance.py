def answer(scene, a, b):
    if scene.motion(a) is not None or scene.motion(b) is not None:
        return scene.drop("moves")
    gap = scene.mesh_distance(a, b)
    if gap < 0.5:
        return scene.drop("too close to read to a tenth")
    if scene.seen_mesh_distance(a, b) > gap + max(0.05, 0.05 * gap):
        return scene.drop("closest points not seen")
    return round(gap, 2)
