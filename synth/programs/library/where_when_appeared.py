def answer(scene, a, b):
    frame = scene.first_seen(b)
    if frame < 0 or scene.first_glimpsed(b) < frame - 1:
        return scene.drop("no clear first appearance")
    return scene.image_side(a, b, frame)
