def answer(scene, a, b):
    ra, inside_a = scene.room_holding(a)
    rb, inside_b = scene.room_holding(b)
    if ra < 0 or rb < 0 or min(inside_a, inside_b) < 0.25:
        return scene.drop("not well inside a room")
    if ra == rb:
        return scene.drop("the same room")
    shown = {r.index: r for r in scene.rooms_shown()}
    for r in (ra, rb):
        if not shown[r].floor_seen or shown[r].wall_max_gap > 0.5:
            return scene.drop("walls not all seen")
    area_a, area_b = shown[ra].area, shown[rb].area
    if not scene.margin(max(area_a, area_b), 1.2 * min(area_a, area_b)):
        return scene.drop("within the margin")
    return a if area_a > area_b else b
