from evals.gold import GoldItem
from evals.judge import Judge, JudgeVerdict, parse_verdict
from tests.fake_openai import FakeOpenAIServer

ITEM = GoldItem("q", "en", "How many?", "18,087.", [["18087"]], ["d"], True)


def test_parse_verdict_reads_the_json_object_in_the_reply():
    reply = 'Sure. {"correct": true, "supporting": [1, 3]} Done.'
    assert parse_verdict(reply) == JudgeVerdict(True, frozenset({1, 3}))
    assert parse_verdict('{"correct": false}') == JudgeVerdict(False, frozenset())


def test_unreadable_verdicts_are_none():
    assert parse_verdict("yes") is None
    assert parse_verdict('{"correct": "yes"}') is None
    assert parse_verdict('{"correct": true, "supporting": "1"}') is None
    assert parse_verdict('{"correct": true,}') is None


def test_the_judge_asks_the_endpoint_with_the_filled_template():
    with FakeOpenAIServer(reply='{"correct": true, "supporting": [2]}') as server:
        judge = Judge(server.base_url, "judge-model")
        verdict = judge.judge(ITEM, "It was 18,087 [2].", {2: "They got 18,087 proposals."})
        failed = Judge(server.base_url, "judge-model")
        server.failure = "401"
        assert failed.judge(ITEM, "x", {}) is None  # a failing judge gives no verdict
    assert verdict == JudgeVerdict(True, frozenset({2}))
    prompt = server.requests[0]["messages"][0]["content"]
    assert server.requests[0]["model"] == "judge-model"
    assert "Question: How many?" in prompt
    assert "Reference answer: 18,087." in prompt
    assert "[2] They got 18,087 proposals." in prompt
    assert "It was 18,087 [2]." in prompt
