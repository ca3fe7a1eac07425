"""The bundled text_tools integration: loads from the real bundled dir, its tools run through an agent."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.toolsets import FunctionToolset

from runtime.integrations import SetupContext
from runtime.integrations.loader import discover
from runtime.integrations.registry import LoadedIntegration
from runtime.settings import REPO_ROOT, Settings


@pytest.fixture(scope="module")
def text_tools() -> LoadedIntegration:
    return discover(Settings()).get("text_tools")


@pytest.fixture(scope="module")
def tools_module(text_tools: LoadedIntegration) -> Any:
    import importlib

    return importlib.import_module("agentrt_integrations.text_tools.tools")


async def _toolset(text_tools: LoadedIntegration) -> FunctionToolset:
    ctx = SetupContext(entry_id="entry-1", domain="text_tools", scope="user", owner_sub="alice")
    (toolset,) = await text_tools.integration.async_setup_entry(ctx)
    assert isinstance(toolset, FunctionToolset)
    return toolset


def test_text_tools_loads_from_the_bundled_dir(text_tools: LoadedIntegration) -> None:
    assert text_tools.path == REPO_ROOT / "integrations" / "text_tools"
    assert text_tools.manifest.config_flow is False and text_tools.config_flow_cls is None
    assert text_tools.manifest.required_tier.label == "unregulated"
    assert (text_tools.path / "translations" / "en.json").is_file()


async def test_setup_entry_returns_a_toolset_whose_tools_an_agent_can_call(text_tools: LoadedIntegration) -> None:
    toolset = await _toolset(text_tools)
    calls = [
        ToolCallPart("word_count", {"text": "Don't panic.\n\nIt's only a test."}, tool_call_id="c1"),
        ToolCallPart("slugify", {"text": "Héllo, Wörld: 2024 Edition!"}, tool_call_id="c2"),
        ToolCallPart("extract_urls", {"text": "See (https://a.example/x). Also www.b.example."}, tool_call_id="c3"),
        ToolCallPart("change_case", {"text": "parseHTTPResponse now", "case": "snake"}, tool_call_id="c4"),
    ]
    seen_tools: list[str] = []

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen_tools[:] = sorted(t.name for t in info.function_tools)
        if len(messages) == 1:
            return ModelResponse(parts=calls)
        return ModelResponse(parts=[TextPart("done")])

    result = await Agent(FunctionModel(model), toolsets=[toolset]).run("use the tools")

    assert seen_tools == ["change_case", "extract_urls", "slugify", "word_count"]
    returns = {
        part.tool_name: part.content
        for message in result.all_messages()
        for part in message.parts
        if isinstance(part, ToolReturnPart)
    }
    assert returns["word_count"].words == 6 and returns["word_count"].paragraphs == 2
    assert returns["slugify"] == "hello-world-2024-edition"
    assert returns["extract_urls"].urls == ["https://a.example/x", "https://www.b.example"]
    assert returns["change_case"] == "parse_http_response_now"
    assert result.output == "done"


async def test_tool_schemas_describe_their_arguments(text_tools: LoadedIntegration) -> None:
    toolset = await _toolset(text_tools)
    change_case = toolset.tools["change_case"]
    schema = change_case.function_schema.json_schema
    assert schema["properties"]["case"]["enum"][:2] == ["lower", "upper"]
    assert "Convert text to a case" in (change_case.description or "")


def test_word_count_counts_words_lines_paragraphs_and_reading_time(tools_module: Any) -> None:
    stats = tools_module.word_count("One two two.\nThree e-mail don't\n\n\nNew para")
    assert (stats.words, stats.unique_words, stats.lines, stats.paragraphs) == (8, 7, 5, 2)
    assert stats.characters == 42 and stats.characters_without_spaces == 33
    assert stats.reading_time_minutes == 0.1
    assert tools_module.word_count("   ").model_dump() == {
        "characters": 3, "characters_without_spaces": 0, "words": 0, "unique_words": 0,
        "lines": 1, "paragraphs": 0, "reading_time_minutes": 0.0,
    }


@pytest.mark.parametrize(
    ("text", "kwargs", "slug"),
    [
        ("Hello World", {}, "hello-world"),
        ("  Crème brûlée -- à la carte!  ", {}, "creme-brulee-a-la-carte"),
        ("Hello World", {"separator": "_"}, "hello_world"),
        ("alpha beta gamma", {"max_length": 12}, "alpha-beta"),  # never cut mid-word
        ("supercalifragilistic", {"max_length": 5}, "super"),  # unless one word is all there is
        ("日本語", {}, ""),
    ],
)
def test_slugify(tools_module: Any, text: str, kwargs: dict[str, Any], slug: str) -> None:
    assert tools_module.slugify(text, **kwargs) == slug


def test_extract_urls_trims_prose_punctuation_dedupes_and_caps(tools_module: Any) -> None:
    text = (
        "Read https://en.wikipedia.org/wiki/Foo_(bar), then (https://x.org/a?b=1). "
        "Again: https://x.org/a?b=1! And \"http://quoted.example/path\" or www.site.example."
    )
    result = tools_module.extract_urls(text)
    assert result.urls == [
        "https://en.wikipedia.org/wiki/Foo_(bar)",
        "https://x.org/a?b=1",
        "http://quoted.example/path",
        "https://www.site.example",
    ]
    assert (result.total, result.truncated) == (4, False)

    many = " ".join(f"https://h{i}.example" for i in range(10))
    capped = tools_module.extract_urls(many, limit=3)
    assert capped.urls == ["https://h0.example", "https://h1.example", "https://h2.example"]
    assert (capped.total, capped.truncated) == (10, True)


PROSE = "XML HTTP request for Café"
IDENTIFIER = "parseXMLHttp_request for-Café"


@pytest.mark.parametrize(
    ("text", "case", "expected"),
    [
        (PROSE, "lower", "xml http request for café"),
        (PROSE, "upper", "XML HTTP REQUEST FOR CAFÉ"),
        (PROSE, "title", "Xml Http Request For Café"),
        (PROSE, "sentence", "Xml http request for café"),
        (IDENTIFIER, "snake", "parse_xml_http_request_for_café"),
        (IDENTIFIER, "kebab", "parse-xml-http-request-for-café"),
        (IDENTIFIER, "camel", "parseXmlHttpRequestForCafé"),
        (IDENTIFIER, "pascal", "ParseXmlHttpRequestForCafé"),
        (IDENTIFIER, "constant", "PARSE_XML_HTTP_REQUEST_FOR_CAFÉ"),
    ],
)
def test_change_case(tools_module: Any, text: str, case: str, expected: str) -> None:
    assert tools_module.change_case(text, case) == expected


async def test_an_invalid_argument_goes_back_to_the_model_as_a_retry(text_tools: LoadedIntegration) -> None:
    toolset = await _toolset(text_tools)

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if len(messages) == 1:
            return ModelResponse(parts=[ToolCallPart("change_case", {"text": "x", "case": "snakey"})])
        return ModelResponse(parts=[TextPart("gave up")])

    result = await Agent(FunctionModel(model), toolsets=[toolset]).run("go")
    assert result.output == "gave up"
    retry_request = result.all_messages()[2]  # user prompt, model call, then the validation feedback
    assert "snakey" in str(retry_request) and "literal_error" in str(retry_request)
