def answer(scene):
    if not scene.structure_seen("floor"):
        return scene.drop("floor not seen")
    if scene.wall_max_gap() > 0.5:
        return scene.drop("walls not all seen")
    pts = scene.room_footprint()
    area = 0.0
    for i in range(len(pts)):
        x1, y1 = pts[i]
        x2, y2 = pts[(i + 1) % len(pts)]
        area = area + x1 * y2 - x2 * y1
    return round(abs(area) / 2, 1)
