def answer(scene, a, b):
    if scene.motion(a) is not None or scene.motion(b) is not None:
        return scene.drop("moves")
    if not (scene.top_seen(a) and scene.top_seen(b)):
        return scene.drop("top not seen")
    ha = scene.object(a).center[2] + scene.object(a).size[2] / 2
    hb = scene.object(b).center[2] + scene.object(b).size[2] / 2
    if not scene.margin(abs(ha - hb), 0.1):
        return scene.drop("within the margin")
    return "yes" if ha > hb else "no"
