def answer(scene, a, b, c):
    rooms = []
    for o in (a, b, c):
        room, inside = scene.room_holding(o)
        if room < 0 or inside < 0.25:
            return scene.drop("not well inside a room")
        rooms.append(room)
    if rooms[1] == rooms[2]:
        return scene.drop("the two share a room")
    if rooms[0] not in rooms[1:]:
        return scene.drop("in neither room")
    shown = {r.index: r for r in scene.rooms_shown()}
    for r in rooms[1:]:
        if not shown[r].floor_seen or shown[r].wall_max_gap > 0.5:
            return scene.drop("walls not all seen")
    return b if rooms[0] == rooms[1] else c
