#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""validate.py SPEC.json: check a CDI spec against the CDI JSON schema next
to this script; exit 0 if it is valid, 1 with the first error otherwise."""
import json
import pathlib
import sys

import jsonschema

here = pathlib.Path(__file__).resolve().parent
schema = json.loads((here / "schema.json").read_text())
# schema.json refers to "defs.json#/definitions/..." relative to itself.
resolver = jsonschema.RefResolver(base_uri=here.as_uri() + "/", referrer=schema)
with open(sys.argv[1]) as f:
    spec = json.load(f)
try:
    jsonschema.Draft7Validator(schema, resolver=resolver).validate(spec)
except jsonschema.ValidationError as e:
    print(f"{sys.argv[1]}: not a valid CDI spec: {e.message} at "
          f"{'/'.join(map(str, e.absolute_path)) or 'the top'}", file=sys.stderr)
    sys.exit(1)
