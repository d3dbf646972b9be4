def answer(scene, a, b, c):
    firsts = sorted((scene.first_seen(o), o) for o in (a, b, c))
    frame, winner = firsts[0]
    if frame < 0:
        return scene.drop("not seen")
    for o in (a, b, c):
        # no other candidate may be glimpsed (even a few pixels) until a frame after the winner is seen
        if o != winner and 0 <= scene.first_glimpsed(o) <= frame:
            return scene.drop("another glimpsed as early")
    return winner
