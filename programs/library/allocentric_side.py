def answer(scene, a, b, c):
    pa, pb, pc = scene.object(a).center, scene.object(b).center, scene.object(c).center
    fx, fy = pb[0] - pa[0], pb[1] - pa[1]
    tx, ty = pc[0] - pa[0], pc[1] - pa[1]
    if math.hypot(fx, fy) < 0.5 or math.hypot(tx, ty) < 0.5:
        return None
    angle = math.degrees(math.atan2(fx * ty - fy * tx, fx * tx + fy * ty))
    if abs(angle) < 15 or abs(angle) > 165:
        return None
    return "left" if angle > 0 else "right"
