def answer(scene):
    total = 0.0
    shown = 0
    for room in scene.rooms_shown():
        if room.frames == 0:
            continue
        if not room.floor_seen:
            return scene.drop("a room's floor not seen")
        if room.wall_max_gap > 0.5:
            return scene.drop("a room's walls not all seen")
        total = total + room.area
        shown = shown + 1
    if shown == 0:
        return scene.drop("no room shown")
    return round(total, 1)
