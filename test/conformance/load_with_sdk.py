"""Loads YAMLs with the official Azure ML SDK (azure-ai-ml, Debian's python3-azure) and reports, per file, what it
made of them. Usage: load_with_sdk.py LOADER=FILE ... ; prints one JSON object per line:
{"file", "loader", "ok", "type"?, "name"?, "unknown"?: [fields the SDK does not know], "okWithoutUnknown"?, "error"?}.
A field the SDK does not know is reported by name (this SDK version predates it), never dropped silently; the file
is then loaded again without those top-level fields, to show that everything else in it conforms."""
import json
import os
import sys
import tempfile
import warnings

import yaml

from azure.ai.ml import (load_batch_deployment, load_batch_endpoint, load_job, load_model,
                         load_online_deployment, load_online_endpoint)

LOADERS = {
    "load_online_endpoint": load_online_endpoint,
    "load_online_deployment": load_online_deployment,
    "load_batch_endpoint": load_batch_endpoint,
    "load_batch_deployment": load_batch_deployment,
    "load_job": load_job,
    "load_model": load_model,
}


def unknown_fields(message):
    """Names of the fields marshmallow calls unknown in a ValidationException message."""
    names = []
    try:
        start = message.index("{")
        details = json.loads(message[start:message.rindex("}") + 1])
    except ValueError:
        return names

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                if value == ["Unknown field."] or value == "Unknown field.":
                    names.append(".".join(path + [key]))
                else:
                    walk(value, path + [key])
    walk(details, [])
    return names


def load(loader, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LOADERS[loader](source=path)


def without_fields(path, fields):
    """A copy of the YAML beside it (relative paths still resolve) without the given top-level fields."""
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    for field in fields:
        data.pop(field, None)
    fd, copy = tempfile.mkstemp(suffix=".yaml", dir=os.path.dirname(os.path.abspath(path)))
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        yaml.safe_dump(data, f)
    return copy


def main():
    for arg in sys.argv[1:]:
        loader, _, path = arg.partition("=")
        record = {"file": path, "loader": loader}
        try:
            entity = load(loader, path)
            record.update(ok=True, type=type(entity).__name__, name=getattr(entity, "name", None))
        except Exception as error:  # marshmallow's ValidationError, the SDK's ValidationException, or anything else
            unknown = unknown_fields(str(error))
            record.update(ok=False, unknown=unknown, error=f"{type(error).__name__}: {error}"[:2000])
            if unknown and all("." not in u for u in unknown):
                copy = without_fields(path, unknown)
                try:
                    entity = load(loader, copy)
                    record.update(okWithoutUnknown=True, type=type(entity).__name__, name=getattr(entity, "name", None))
                except Exception as again:
                    record.update(okWithoutUnknown=False, errorWithoutUnknown=f"{type(again).__name__}: {again}"[:2000])
                finally:
                    os.unlink(copy)
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
