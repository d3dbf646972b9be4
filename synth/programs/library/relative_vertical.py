def answer(scene, a, b):
    if scene.motion(a) is not None or scene.motion(b) is not None:
        return scene.drop("moves")
    oa, ob = scene.object(a), scene.object(b)
    a_bottom, a_top = oa.center[2] - oa.size[2] / 2, oa.center[2] + oa.size[2] / 2
    b_bottom, b_top = ob.center[2] - ob.size[2] / 2, ob.center[2] + ob.size[2] / 2
    if a_bottom > b_top + 0.05:
        return "above"
    if a_top < b_bottom - 0.05:
        return "below"
    return scene.drop("within the margin")
