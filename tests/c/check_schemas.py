#!/usr/bin/env python3
"""Checks include/medaudit_3101_{request,response}.schema.json: both are valid JSON Schema
(2020-12), their examples validate, and the pre-alert example's real request and response
validate. Needs the `jsonschema` package; without it only the JSON syntax and the examples'
presence are checked (and it says so).
Usage: check_schemas.py PREALERT_BINARY
"""
import json
import subprocess
import sys

root = __file__.rsplit("/tests/c/", 1)[0]
req_schema = json.load(open(f"{root}/include/medaudit_3101_request.schema.json", encoding="utf-8"))
resp_schema = json.load(open(f"{root}/include/medaudit_3101_response.schema.json", encoding="utf-8"))
binary = sys.argv[1]
request = json.loads(subprocess.run([binary, "--request"], check=True, capture_output=True, text=True).stdout)
response = json.loads(subprocess.run([binary, "--json"], check=True, capture_output=True, text=True).stdout)
assert response["result"], "the example's response has no result"
try:
    import jsonschema
except ImportError:
    print("schemas: JSON syntax ok; jsonschema not installed, validation skipped")
    sys.exit(0)
checked = 0
for schema, docs in ((req_schema, req_schema["examples"] + [request]), (resp_schema, resp_schema["examples"] + [response])):
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    for d in docs:
        errors = sorted(v.iter_errors(d), key=lambda e: list(e.path))
        if errors:
            print("schema violation:", errors[0].message, "at", list(errors[0].path))
            print("schemas: 0 passed, 1 failed")
            sys.exit(1)
        checked += 1
print(f"schemas: {checked} passed, 0 failed")
