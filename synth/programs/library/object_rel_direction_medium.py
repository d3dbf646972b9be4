def answer(scene, a, b, c):
    turn = scene.standing_turn(a, b, c)
    if turn is None:
        return None
    angle, margin = turn
    if abs(angle) < 45:
        return scene.drop("ahead: no option for it")
    if not scene.margin(abs(abs(angle) - 135), margin):
        return scene.drop("within the margin")
    if abs(angle) > 135:
        return "back"
    return "left" if angle > 0 else "right"
