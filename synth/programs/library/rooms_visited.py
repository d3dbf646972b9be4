def answer(scene):
    rooms = scene.rooms_shown()
    if len(rooms) < 2:
        return scene.drop("not a house")
    count = 0
    for r in rooms:
        if r.floor_seen and r.wall_max_gap <= 0.5:
            count = count + 1
        elif r.frames > 0:
            return scene.drop("a room partly shown")
    return count
