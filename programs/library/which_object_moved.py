def answer(scene):
    last = scene.num_frames - 1
    moved = []
    for o in scene.objects(0):
        end = scene.object(o.id, last)
        turned = abs(math.atan2(math.sin(end.yaw - o.yaw), math.cos(end.yaw - o.yaw)))
        if math.dist(o.center, end.center) > 0.05 or turned > 0.1:
            moved.append(o.id)
    if len(moved) != 1 or not scene.seen(moved[0]):
        return None
    return moved[0]
