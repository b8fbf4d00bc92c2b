"""Limits on what one request may cost: URL and header size, body encoding, JSON depth,
characters and explanations per scoring request, and admission to the model (429 at once
when the slots, the wait line or the key's share are full)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_api import CALM, Api, BlockingModel, assert_error, settings_for, sqlite_url

from triage.api import create_app
from triage.api.admission import Admission, Limits, limits_for
from triage.api.routes.scoring import ClientGone, score_in_slices
from triage.errors import Overloaded
from triage.scoring import Scorer


@pytest.fixture
def small_api(tmp_path: Path, keyword_scorer: Scorer) -> Iterator[Api]:
    settings = settings_for(tmp_path, sqlite_url(tmp_path), max_url_chars=2000,
                            max_header_bytes=4000, max_request_chars=1000,
                            max_explain_chars=300)
    with TestClient(create_app(settings, scorer=keyword_scorer)) as client:
        yield Api(client)


def test_api_limits_long_url_is_414_before_routing(small_api: Api) -> None:
    body = assert_error(small_api.call("GET", "/healthz?" + "a" * 64_000, key=None), 414,
                        "URITooLong")
    assert "limit is 2000" in body["error"]
    assert_error(small_api.call("GET", "/" + "a" * 64_000, key=None), 414)
    assert small_api.call("GET", "/healthz", key=None).status_code == 200
    assert 'reason="url_too_long"' in small_api.call("GET", "/metrics", key=None).text


def test_api_limits_oversize_headers_are_431(small_api: Api) -> None:
    r = small_api.call("GET", "/healthz", key=None, headers={"x-junk": "j" * 5000})
    assert_error(r, 431, "HeadersTooLarge")


def test_api_limits_head_on_health_is_200(small_api: Api) -> None:
    assert small_api.call("HEAD", "/healthz", key=None).status_code == 200
    assert small_api.call("HEAD", "/readyz", key=None).status_code == 200


@pytest.mark.parametrize("raw", [
    '{"text": "hello there"}'.encode("utf-16"),  # with its byte-order mark
    '{"text": "hello there"}'.encode("utf-16-le"),
    '{"text": "hello there"}'.encode("utf-32"),
])
def test_api_limits_utf16_bodies_are_refused(small_api: Api, raw: bytes) -> None:
    r = small_api.call("POST", "/v1/score", content=raw,
                       headers={"content-type": "application/json"})
    body = assert_error(r, 422, "ValidationError")
    assert "UTF-8" in body["error"]


def test_api_limits_deep_json_says_it_is_too_deep(small_api: Api) -> None:
    raw = b'{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    r = small_api.call("POST", "/v1/score", content=raw,
                       headers={"content-type": "application/json"})
    body = assert_error(r, 422, "ValidationError")
    assert "deeply" in body["error"]


def test_api_limits_characters_per_request_are_bounded(small_api: Api) -> None:
    body = assert_error(small_api.call("POST", "/v1/score", json={"texts": [CALM] * 15}), 413,
                        "RequestTooLarge")
    assert body["detail"] == {"chars": 15 * len(CALM), "limit": 1000}
    assert "TRIAGE_MAX_REQUEST_CHARS" in body["error"]
    assert small_api.call("POST", "/v1/score", json={"texts": [CALM] * 10}).status_code == 200


def test_api_limits_explanations_are_bounded(small_api: Api) -> None:
    body = assert_error(small_api.call("POST", "/v1/score?explain=true",
                                       json={"texts": [CALM] * 5}), 422, "InputError")
    assert body["detail"] == {"chars": 5 * len(CALM), "limit": 300}
    assert small_api.call("POST", "/v1/score?explain=true",
                          json={"texts": [CALM] * 4}).status_code == 200


class CountingScorer:
    version = "counting-1"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def score(self, texts: list[str], *, explain_top: int = 0) -> list[str]:
        self.calls.append(len(texts))
        return list(texts)


def test_api_limits_a_gone_client_stops_the_rest_of_its_batch() -> None:
    scorer = CountingScorer()
    answers = iter([False, True])

    async def gone() -> bool:
        return next(answers)

    with pytest.raises(ClientGone):
        asyncio.run(score_in_slices(scorer, ["m"] * 100, 0, 32, gone))
    assert scorer.calls == [32, 32]  # the slice after the client left was never scored


def test_api_limits_a_present_client_gets_every_slice() -> None:
    scorer = CountingScorer()

    async def here() -> bool:
        return False

    got = asyncio.run(score_in_slices(scorer, [str(i) for i in range(70)], 0, 32, here))
    assert got == [str(i) for i in range(70)] and scorer.calls == [32, 32, 6]


def test_api_limits_admission_refuses_at_once_beyond_the_wait_line() -> None:
    async def scenario() -> list[str]:
        gate = Admission(Limits(slots=1, queue=1, wait=5.0, per_key=9))
        release = asyncio.Event()
        events: list[str] = []

        async def hold(key: int, name: str) -> None:
            try:
                async with gate.turn(key):
                    events.append(f"{name} in")
                    await release.wait()
            except Overloaded as exc:
                events.append(f"{name} refused: {exc.detail['scope']}")

        first = asyncio.create_task(hold(1, "a"))
        await asyncio.sleep(0.01)
        second = asyncio.create_task(hold(2, "b"))  # waits in line
        await asyncio.sleep(0.01)
        await hold(3, "c")  # line full: refused without waiting
        release.set()
        await asyncio.gather(first, second)
        return events

    assert asyncio.run(scenario()) == ["a in", "c refused: queue", "b in"]


def test_api_limits_admission_caps_one_key_and_bounds_the_wait() -> None:
    async def scenario() -> list[str]:
        gate = Admission(Limits(slots=1, queue=5, wait=0.05, per_key=1))
        events: list[str] = []
        async with gate.turn(1):
            for key in (1, 2):
                try:
                    async with gate.turn(key):
                        events.append("in")
                except Overloaded as exc:
                    events.append(exc.detail["scope"])
        async with gate.turn(1):  # the key's turn came back
            events.append("again")
        return events

    assert asyncio.run(scenario()) == ["key", "wait", "again"]


def test_api_limits_admission_defaults_leave_room_for_other_keys() -> None:
    lim = limits_for(2, 0, 2.0, 0)
    assert (lim.slots, lim.queue) == (2, 8)
    assert lim.per_key < lim.slots + lim.queue


def test_api_limits_overload_answers_429_fast_while_the_model_is_busy(tmp_path: Path) -> None:
    model = BlockingModel()
    settings = settings_for(tmp_path, sqlite_url(tmp_path), inference_slots=1, score_queue=1,
                            max_per_key=5, score_wait_seconds=30)
    with TestClient(create_app(settings, scorer=Scorer(model))) as client:
        api = Api(client)
        done: list[int] = []

        def send(key: str) -> None:
            done.append(api.call("POST", "/v1/score", key=key, json={"text": CALM}).status_code)

        busy = threading.Thread(target=send, args=("agent",))
        busy.start()
        assert model.entered.wait(timeout=30)
        waiting = threading.Thread(target=send, args=("bob",))
        waiting.start()
        _wait_for(lambda: client.app.state.service.admission._waiting == 1)  # type: ignore
        # the slot is busy and the line is full: refused now, not after score_wait_seconds
        body = assert_error(api.call("POST", "/v1/score", key="admin", json={"text": CALM}),
                            429, "Overloaded")
        assert body["detail"] == {"limit": 1, "scope": "queue"}
        model.release.set()
        busy.join()
        waiting.join()
        assert done == [200, 200]


def test_api_limits_one_key_cannot_take_every_turn(tmp_path: Path) -> None:
    model = BlockingModel()
    settings = settings_for(tmp_path, sqlite_url(tmp_path), inference_slots=1, score_queue=4,
                            max_per_key=1)
    with TestClient(create_app(settings, scorer=Scorer(model))) as client:
        api = Api(client)
        busy = threading.Thread(target=api.call, args=("POST", "/v1/score"),
                                kwargs={"json": {"text": CALM}})
        busy.start()
        assert model.entered.wait(timeout=30)
        body = assert_error(api.call("POST", "/v1/score", json={"text": CALM}), 429)
        assert body["detail"] == {"limit": 1, "scope": "key"}
        assert api.call("POST", "/v1/tickets", json={"text": CALM}).status_code == 429
        model.release.set()
        busy.join()
        assert api.call("POST", "/v1/score", json={"text": CALM}).status_code == 200


def _wait_for(condition: Any, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never met"
        time.sleep(0.01)


