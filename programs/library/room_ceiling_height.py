def answer(scene):
    return round(scene.room_height(), 2)
