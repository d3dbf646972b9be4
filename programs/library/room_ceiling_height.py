def answer(scene):
    if not (scene.structure_seen("ceiling") and scene.structure_seen("floor")):
        return None
    return round(scene.room_height(), 2)
