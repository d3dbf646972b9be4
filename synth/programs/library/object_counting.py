def answer(scene, category):
    count = 0
    for o in scene.objects():
        if o.category == category:
            if scene.seen(o.id):
                count = count + 1
            elif scene.glimpsed(o.id):
                return scene.drop("one is only glimpsed")
        elif o.category.endswith(" " + category) and scene.glimpsed(o.id):
            return scene.drop("a kind of it shows too")
    return count
