def answer(scene, category):
    count = 0
    for o in scene.objects():
        if o.category != category:
            continue
        if scene.seen(o.id):
            count = count + 1
        elif scene.glimpsed(o.id):
            return scene.drop("one is only glimpsed")
    return count
