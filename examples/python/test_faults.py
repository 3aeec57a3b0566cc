"""Arming a fault of the mock IdP from a pytest suite, as a Python service's tests would.

The IdP is the `oidc-harness idp` binary (OIDC_HARNESS names it), started on a free port;
its admin API (docs/admin-api.json) arms and disarms faults and reads the journal. Here
the fault is `discovery-unavailable`, for everyone: the discovery document answers 503
until it is disarmed. Any fault of docs/faults.md can be armed the same way, for one
user (`"user": "alice@example.com"`) or one client, once (`"times": 1`) or until
disarmed, while your own app logs in against the IdP.
"""

import json
import os
import re
import subprocess
import urllib.error
import urllib.request

import pytest

BINARY = os.environ.get("OIDC_HARNESS", "oidc-harness")


@pytest.fixture(scope="module")
def idp():
    """The IdP's base URL; the IdP runs for the module and is stopped after it."""
    proc = subprocess.Popen(
        [BINARY, "idp", "--addr", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True
    )
    first = proc.stdout.readline()  # "mock IdP (Okta on the wire) listening on http://…"
    found = re.search(r"listening on (\S+)", first)
    assert found, f"unexpected banner: {first!r}"
    yield found.group(1)
    proc.terminate()
    proc.wait(timeout=10)


def call(method, url, body=None):
    """(status, JSON answer or None)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read()
            return resp.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        return e.code, None


def test_discovery_fails_while_the_fault_is_armed(idp):
    discovery = f"{idp}/oauth2/default/.well-known/openid-configuration"
    assert call("GET", discovery)[0] == 200
    status, armed = call("POST", f"{idp}/_harness/faults", {"id": "discovery-unavailable"})
    assert status == 201, armed
    assert call("GET", discovery)[0] == 503
    assert call("DELETE", f"{idp}/_harness/faults/armed/{armed['armed_id']}")[0] == 204
    assert call("GET", discovery)[0] == 200


def test_the_journal_names_the_fault_on_the_request_it_changed(idp):
    assert call("DELETE", f"{idp}/_harness/journal")[0] == 204
    status, armed = call(
        "POST", f"{idp}/_harness/faults", {"id": "discovery-unavailable", "times": 1}
    )
    assert status == 201
    call("GET", f"{idp}/oauth2/default/.well-known/openid-configuration")
    _, journal = call("GET", f"{idp}/_harness/journal")
    struck = [e for e in journal if "discovery-unavailable" in e.get("faults", [])]
    assert len(struck) == 1 and struck[0]["status"] == 503, journal


def test_the_admin_api_document_is_valid_openapi(idp):
    from openapi_spec_validator import validate

    status, doc = call("GET", f"{idp}/_harness/openapi.json")
    assert status == 200
    validate(doc)  # raises, naming the problem, when it is not valid OpenAPI 3.1
    assert "/faults" in doc["paths"]
