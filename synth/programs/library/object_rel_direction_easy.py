def answer(scene, a, b, c):
    turn = scene.standing_turn(a, b, c)
    if turn is None:
        return None
    angle, margin = turn
    if not scene.margin(min(abs(angle), 180 - abs(angle)), margin):
        return scene.drop("within the margin")
    return "left" if angle > 0 else "right"
