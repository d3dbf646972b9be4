def answer(scene, p, q, r, s):
    named = (p, q, r, s)
    ids = []
    for c in named:
        same = [o.id for o in scene.objects() if o.category == c]
        if len(same) != 1:
            return scene.drop("several objects of a category")
        if not scene.seen(same[0]):
            return scene.drop("not seen")
        if scene.motion(same[0]) is not None:
            return scene.drop("moves")
        ids.append(same[0])
    centres = [scene.object(o).center for o in ids]
    x0, y0 = min(c[0] for c in centres), min(c[1] for c in centres)
    side = max(max(c[0] for c in centres) - x0, max(c[1] for c in centres) - y0)
    if side < 1.0:
        return scene.drop("too close together")
    cell = side / 10
    if any(scene.centre_uncertainty(o) > cell / 2 for o in ids):
        return scene.drop("too little of it seen")
    cells = {}
    for c, centre in zip(named, centres):
        cells[c] = [[min(9, int((centre[0] - x0) / cell)), min(9, int((centre[1] - y0) / cell))]]
    return cells
