"""`stabfix ci`: nothing from the command line or the environment can bend what is sent to CircleCI.

``--project`` must be VCS/ORG/REPO (``../../x`` used to be sent into the API's path), ids must be
one path segment, and the token must be a valid HTTP header value: stripped of surrounding
whitespace (a trailing newline from ``export CIRCLECI_TOKEN=$(cat file)``), refused with a one-line
message that never shows it otherwise (it used to end in a misleading network error after 15 s of
retries). No request is made in any refused case.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from codemods.commands.circleci import CircleCIError, Client, fetch_failures, project_slug
from codemods.commands.circleci import cli as circleci

TOKEN = "test-token-0123456789abcdef"
PIPE = "5034460f-c7c4-4c43-9457-de07e2029e7b"
BAD_PROJECTS = ["../../x", "gh/../x", "gh/org/..", "gh/./x", "gh/org/.", "svn/org/repo", "gh/org", "gh/org/repo/x",
                "gh/org/re po", "gh/org/repo?x=1", "gh/org/repo#x", "gh/org%2F../repo", "gh/órg/repo", "gh//repo",
                "", "gh/org/repo\n", "/gh/org/repo"]
BAD_TOKENS = {"a\nb": "newline", "tok\r\nen": "newline", "to\x00ken": "control", "tok\x7fen": "control",
              "tök": "non-ASCII", "tok\u2028en": "non-ASCII", "": "not set", " \n\t": "not set"}


@pytest.fixture
def sent_requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[httpx.Request]]:
    """Every request the CLI's client makes (answered 404), through a mock transport."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"message": "not found"})

    def client(api_url: str | None) -> Client:
        return Client(base_url=api_url or "https://circleci.invalid/api", transport=httpx.MockTransport(answer),
                      sleep=lambda _: None)

    monkeypatch.setattr(circleci, "_client", client)
    monkeypatch.setenv("CIRCLECI_TOKEN", TOKEN)
    yield seen


def _ci(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(circleci.group, list(args))
    return result.exit_code, result.stderr


@pytest.mark.parametrize("project", BAD_PROJECTS)
@pytest.mark.parametrize("command", ["failures", "status"])
def test_a_project_that_is_not_vcs_org_repo_is_refused_before_any_request(
    sent_requests: list[httpx.Request], tmp_path: Path, command: str, project: str
) -> None:
    extra = ["--out", str(tmp_path / "out")] if command == "failures" else []
    code, err = _ci(command, "--project", project, *extra)
    assert code == 2 and err.count("\n") == 1 and "expected VCS/ORG/REPO" in err, err
    assert sent_requests == []


@pytest.mark.parametrize("project", ["gh/BerriAI/litellm", "github/a.b/c_d-e", "bb/x/y", "bitbucket/O/r.git",
                                     "circleci/8d1c1c7e-aaaa/5c6c-bbbb", "gh/..x/x..", "gh/.github/repo"])
def test_vcs_org_repo_projects_are_accepted(project: str) -> None:
    assert project_slug(project) == project


def test_a_pipeline_id_that_is_not_one_path_segment_is_refused(sent_requests: list[httpx.Request]) -> None:
    code, err = _ci("status", "--project", "gh/o/r", "--pipeline", "../../../v2/me")
    assert code == 2 and err.count("\n") == 1 and "--pipeline '../../../v2/me': not an id" in err
    assert sent_requests == []


def test_ids_from_the_api_answer_stay_one_path_segment(tmp_path: Path) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"id": "../../project/gh/other/repo", "number": 1})

    with Client(TOKEN, "https://circleci.invalid/api", transport=httpx.MockTransport(answer)) as client, \
            pytest.raises(CircleCIError, match=r"pipeline id '\.\./\.\./project/gh/other/repo': not an id"):
        fetch_failures(client, "gh/o/r", tmp_path / "out", pipeline_id=PIPE)
    assert seen == [f"/api/v2/pipeline/{PIPE}"]


@pytest.mark.parametrize("padded", [TOKEN + "\n", " " + TOKEN + "\r\n", "\t" + TOKEN + " "])
def test_the_token_is_stripped_of_surrounding_whitespace(padded: str) -> None:
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["Circle-Token"])
        return httpx.Response(200, json={"id": PIPE})

    with Client(padded, "https://circleci.invalid/api", transport=httpx.MockTransport(answer)) as client:
        assert client.pipeline(PIPE) == {"id": PIPE}
    assert sent == [TOKEN]


@pytest.mark.parametrize("token", list(BAD_TOKENS))
def test_a_token_that_cannot_be_a_header_is_refused_in_one_line(token: str) -> None:
    calls: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={})

    transport = httpx.MockTransport(answer)
    with pytest.raises(CircleCIError) as info:
        Client(token, "https://circleci.invalid/api", transport=transport, sleep=lambda _: None).pipeline(PIPE)
    message = info.value.one_line()
    assert "CIRCLECI_TOKEN" in message and BAD_TOKENS[token] in message and "\n" not in message
    assert calls == []
    if token.strip():
        assert token.strip() not in message  # the token is never shown


def test_the_cli_refuses_a_token_with_a_newline_inside_without_showing_it(
    sent_requests: list[httpx.Request], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIRCLECI_TOKEN", "secret-part-1\nsecret-part-2\n")
    code, err = _ci("status", "--project", "gh/o/r")
    assert code == 2 and err.count("\n") == 1 and "cannot be sent as an HTTP header" in err
    assert "secret" not in err and sent_requests == []
