def answer(scene, a, b, c):
    turn = scene.standing_turn(a, b, c)
    if turn is None:
        return None
    angle, margin = turn
    if not scene.margin(min(abs(angle), abs(abs(angle) - 90), 180 - abs(angle)), margin):
        return scene.drop("within the margin")
    side = "left" if angle > 0 else "right"
    return ("back-" if abs(angle) > 90 else "front-") + side
