"""The pydash functions azure-ai-ml 1.4.0 calls (get, omit, objects.set_). Debian packages azure-ai-ml in
python3-azure but not its pydash dependency, so the conformance test puts this on PYTHONPATH; it is not a
replacement for pydash."""


def get(obj, path, default=None):
    """The value at a dotted `path` (or a list of keys) in nested dicts/objects, else `default`."""
    keys = path.split(".") if isinstance(path, str) else list(path)
    node = obj
    for key in keys:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, (list, tuple)) and str(key).isdigit() and int(key) < len(node):
            node = node[int(key)]
        elif not isinstance(node, (dict, list, tuple)) and hasattr(node, str(key)):
            node = getattr(node, str(key))
        else:
            return default
    return node


def omit(obj, *paths):
    """A shallow copy of the dict `obj` without the given top-level keys."""
    keys = set()
    for p in paths:
        keys.update(p if isinstance(p, (list, tuple, set)) else [p])
    return {k: v for k, v in obj.items() if k not in keys}


def set_(obj, path, value):
    """Sets `value` at a dotted `path` in nested dicts, creating the dicts on the way; returns `obj`."""
    keys = path.split(".") if isinstance(path, str) else list(path)
    node = obj
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[keys[-1]] = value
    return obj


class objects:  # noqa: N801 - pydash exposes `objects` as a module; a namespace is all azure-ai-ml needs
    get = staticmethod(get)
    omit = staticmethod(omit)
    set_ = staticmethod(set_)
