def answer(scene, a, b, c):
    turn = scene.standing_turn(a, b, c)
    if turn is None:
        return None
    angle, margin = turn
    if abs(angle) < margin or abs(angle) > 180 - margin:
        return scene.drop("within the margin")
    return "left" if angle > 0 else "right"
