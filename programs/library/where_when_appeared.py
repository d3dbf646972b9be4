def answer(scene, a, b):
    frame = scene.first_seen(b)
    if frame < 0 or scene.first_glimpsed(b) < frame - 1:
        return scene.drop("no clear first appearance")
    if not scene.is_visible(a, frame):
        return scene.drop("not both visible in the frame")
    ua, ub = scene.mask_centroid(a, frame)[0], scene.mask_centroid(b, frame)[0]
    if abs(ua - ub) < 0.08 * scene.width:
        return scene.drop("within the margin")
    side = "left" if ua < ub else "right"
    toward_b = "r" if side == "left" else "l"
    toward_a = "l" if side == "left" else "r"
    if toward_b in scene.cut_sides(a, frame) or toward_a in scene.cut_sides(b, frame):
        return scene.drop("cut by the border")
    return side
