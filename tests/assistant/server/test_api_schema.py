"""Requests generated from the app's own /openapi.json, valid and invalid, find no server
error. Bounded: a few examples per endpoint and mode, against the scripted model."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.fake_openai import FakeOpenAIServer
from tests.support.web import build_index, make_app, scripted_reply

EXAMPLES_PER_OPERATION = 10


def test_generated_requests_find_no_server_error(tmp_path):
    data_dir = build_index(tmp_path)
    with FakeOpenAIServer(reply=scripted_reply) as server:
        schema = schemathesis.openapi.from_asgi(
            "/openapi.json", make_app(data_dir, server.base_url)
        )
        operations = [result.ok() for result in schema.get_all_operations()]
        assert {op.label for op in operations} >= {"POST /api/ask", "POST /v1/chat/completions"}
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                # schemathesis' own pytest integration does not run on this pytest; hypothesis
                # drives its strategies directly instead.
                @given(case=operation.as_strategy(mode))
                @settings(
                    max_examples=EXAMPLES_PER_OPERATION,
                    deadline=None,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                )
                def call(case):
                    case.call_and_validate(checks=[not_a_server_error])

                call()
