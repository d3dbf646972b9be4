def answer(scene):
    if not scene.structure_seen("ceiling"):
        return scene.drop("ceiling not seen")
    if not scene.structure_seen("floor"):
        return scene.drop("floor not seen")
    return round(scene.room_height(), 2)
