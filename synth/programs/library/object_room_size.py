def answer(scene, a):
    room, inside = scene.room_holding(a)
    if room < 0 or inside < 0.25:
        return scene.drop("not well inside a room")
    rooms = {r.index: r for r in scene.rooms_shown()}
    if rooms[room].area < 6:
        return scene.drop("a room under 6 square metres")
    for r in (room, *rooms[room].neighbours):
        if r in rooms and (not rooms[r].floor_seen or rooms[r].wall_max_gap > 0.5):
            return scene.drop("walls not all seen")
    return round(rooms[room].area, 1)
