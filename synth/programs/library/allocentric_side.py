def answer(scene, a, b, c):
    if any(scene.motion(o) is not None for o in (a, b, c)):
        return scene.drop("moves")
    for o in (a, b, c):
        if min(scene.extent_seen(o)[:2]) < 0.5:
            return scene.drop("too little of it seen")
    pa, pb, pc = scene.object(a).center, scene.object(b).center, scene.object(c).center
    fx, fy = pb[0] - pa[0], pb[1] - pa[1]
    tx, ty = pc[0] - pa[0], pc[1] - pa[1]
    if math.hypot(fx, fy) < 1.0 or math.hypot(tx, ty) < 1.0:
        return scene.drop("too close")
    angle = math.degrees(math.atan2(fx * ty - fy * tx, fx * tx + fy * ty))
    if not scene.margin(min(abs(angle), 180 - abs(angle)), 25):
        return scene.drop("within the margin")
    return "left" if angle > 0 else "right"
