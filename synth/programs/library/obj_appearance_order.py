def answer(scene, p, q, r, s):
    named = (p, q, r, s)
    for o in scene.objects():
        for c in named:
            if o.category != c and o.category.endswith(" " + c) and scene.glimpsed(o.id):
                return scene.drop("a kind of one shows too")
    firsts = sorted((scene.category_first_seen(c), c) for c in named)
    if firsts[0][0] < 0:
        return scene.drop("not seen")
    gap = max(2, math.ceil(scene.fps))
    for k in range(1, len(firsts)):
        f0, f1, c1 = firsts[k - 1][0], firsts[k][0], firsts[k][1]
        if not scene.margin(f1 - f0, gap):
            return scene.drop("within the margin")
        if scene.category_first_glimpsed(c1) <= f0:
            return scene.drop("glimpsed as early")
    return ", ".join(c for f, c in firsts)
