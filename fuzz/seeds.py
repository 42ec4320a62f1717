#!/usr/bin/env python3
"""Writes seed inputs for the fuzz targets from the vendors' documentation.

Usage: fuzz/seeds.py SPECS_DIR OUT_DIR

Takes the small example payloads in SPECS_DIR (the vendors' specifications, kept outside
this repository): whole JSON/XML/text files, fenced code blocks in Markdown and AsciiDoc, and
the `example`/`examples` values of OpenAPI documents (JSON or YAML). Each is written to OUT_DIR
as one file named by its SHA-1, so `cargo fuzz run TARGET fuzz/corpus/TARGET OUT_DIR` starts
from real payloads. A body alone is a valid input for every target (see fuzz/src/lib.rs).
"""

import hashlib
import json
import os
import re
import sys

MAX_BYTES = 16 * 1024
MAX_SEEDS = 4000
FENCE = re.compile(r"^(```|----)[^\n]*\n(.*?)^(```|----)\s*$", re.S | re.M)


def examples(node):
    """Every `example`/`examples` value under an OpenAPI node."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "example":
                yield value
            elif key == "examples" and isinstance(value, dict):
                for item in value.values():
                    yield item.get("value", item) if isinstance(item, dict) else item
            elif key == "examples" and isinstance(value, list):
                yield from value
            else:
                yield from examples(value)
    elif isinstance(node, list):
        for item in node:
            yield from examples(item)


def candidates(path):
    """The payloads one specification file holds, as bytes."""
    name = path.lower()
    with open(path, "rb") as f:
        raw = f.read()
    if name.endswith((".json", ".xml", ".txt")) and len(raw) <= MAX_BYTES:
        yield raw
    if name.endswith((".md", ".mdx", ".adoc")):
        for block in FENCE.finditer(raw.decode("utf-8", "replace")):
            yield block.group(2).encode()
    if name.endswith((".json", ".yml", ".yaml")):
        try:
            if name.endswith(".json"):
                tree = json.loads(raw)
            else:
                import yaml  # PyYAML; without it, YAML documents are skipped.

                tree = yaml.safe_load(raw)
        except Exception:
            return
        for example in examples(tree):
            if isinstance(example, (dict, list)):
                yield json.dumps(example, default=str).encode()
            elif isinstance(example, str) and example.lstrip().startswith(("{", "[", "<")):
                yield example.encode()


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    specs, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    written = set()
    for root, _, files in sorted(os.walk(specs)):
        for file in sorted(files):
            try:
                found = list(candidates(os.path.join(root, file)))
            except (OSError, ImportError):
                continue
            for payload in found:
                payload = payload.strip()
                if not payload or len(payload) > MAX_BYTES or len(written) >= MAX_SEEDS:
                    continue
                digest = hashlib.sha1(payload).hexdigest()
                if digest not in written:
                    written.add(digest)
                    with open(os.path.join(out, digest), "wb") as f:
                        f.write(payload)
    print(f"{len(written)} seeds in {out}")


if __name__ == "__main__":
    main()
