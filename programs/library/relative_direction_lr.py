def answer(scene, a, b, frame):
    if not (scene.is_visible(a, frame) and scene.is_visible(b, frame)):
        return scene.drop("not both visible in the frame")
    ua, ub = scene.mask_centroid(a, frame)[0], scene.mask_centroid(b, frame)[0]
    if abs(ua - ub) < 0.08 * scene.width:
        return scene.drop("within the margin")
    side = "left" if ua < ub else "right"
    # a border cut hides part of an object: its centre lies further out on the cut side
    toward_b = "r" if side == "left" else "l"
    toward_a = "l" if side == "left" else "r"
    if toward_b in scene.cut_sides(a, frame) or toward_a in scene.cut_sides(b, frame):
        return scene.drop("cut by the border")
    return side
