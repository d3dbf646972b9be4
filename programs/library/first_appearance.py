def answer(scene, a, b, c):
    firsts = sorted((scene.first_seen(o), o) for o in (a, b, c))
    if firsts[0][0] < 0 or firsts[0][0] == firsts[1][0]:
        return None
    return firsts[0][1]
