def answer(scene, start, facing, goal, via1=None, via2=None):
    names = [o.description for o in scene.objects()]

    def stands(o):
        info = scene.object(o)
        low = info.center[2] - info.size[2] / 2 < 0.1
        return info.supported_by == 0 and low and scene.motion(o) is None and names.count(info.description) == 1

    def turn(at, came_from, to):
        found = scene.standing_turn(at, came_from, to)
        if found is None:
            return None
        angle, margin = found
        angle = angle - 180 if angle > 0 else angle + 180
        if abs(angle) < 45 + margin or abs(abs(angle) - 135) < margin:
            return scene.drop("a turn within the margin")
        if abs(angle) >= 135:
            return "Turn Back"
        return "Turn Left" if angle > 0 else "Turn Right"

    def ahead(o):
        found = scene.standing_turn(start, facing, o)
        return found is not None and abs(found[0]) <= 45 - found[1]

    def length(path):
        total = 0
        for p, q in zip(path, path[1:]):
            a, b = scene.object(p).center, scene.object(q).center
            total = total + math.hypot(a[0] - b[0], a[1] - b[1])
        return total

    if not (stands(start) and stands(goal)) or scene.motion(facing) is not None:
        return scene.drop("not standing on the floor")
    if via1 is None:
        landmarks = [o for o in scene.object_ids() if o not in (start, goal) and scene.seen(o) and stands(o)]
        firsts = [o for o in landmarks if ahead(o) and scene.walk(start, o) is not None]
        routes = [(p, q) for p in firsts for q in landmarks if q != p]
    else:
        if not (stands(via1) and stands(via2) and ahead(via1) and scene.walk(start, via1) is not None):
            return scene.drop("no walk ahead")
        routes = [(via1, via2)]
    best = None
    for p, q in routes:
        if best is not None and length((start, p, q, goal)) >= best[0]:
            continue
        first = turn(p, start, q)
        second = turn(q, p, goal) if first is not None else None
        if second is None:
            continue
        if scene.walk(p, q) is None or scene.walk(q, goal) is None:
            scene.drop("a walk is blocked")
            continue
        best = (length((start, p, q, goal)), p, q, first + ", " + second)
    if best is None:
        return scene.drop("no route of three walks") if via1 is None else None
    return {"answer": best[3], "via1": best[1], "via2": best[2]}
