from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic_ai.messages import (
    ModelResponse,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel

from runtime.flows import FlowRegistry
from runtime.settings import ModelProfile
from tests.flows.defs import all_flows


@dataclass
class FlowModel:
    """Drives the intake flow: calls whichever flow function the node offers, answers tool results."""

    tools_seen: list[list[str]] = field(default_factory=list)
    texts_seen: list[list[str]] = field(default_factory=list)
    fail_summary: bool = False

    def reply(self, messages: list[Any], info: AgentInfo) -> ModelResponse:
        tools = sorted(t.name for t in info.function_tools)
        texts = [str(p.content) for m in messages for p in m.parts
                 if isinstance(p, (UserPromptPart, SystemPromptPart, ToolReturnPart))]
        self.tools_seen.append(tools)
        self.texts_seen.append(texts)
        last = messages[-1].parts[-1]
        if isinstance(last, UserPromptPart) and last.content == "Summarise the conversation.":
            if self.fail_summary:
                raise RuntimeError("summary model down")
            return ModelResponse(parts=[TextPart("the caller said hello")])
        if isinstance(last, ToolReturnPart):
            return ModelResponse(parts=[TextPart(f"ok: {last.model_response_str()}")])
        text = str(last.content)
        if text.startswith("call "):
            name, _, args = text[5:].partition(" ")
            return ModelResponse(parts=[ToolCallPart(name, json.loads(args or "{}"))])
        return ModelResponse(parts=[TextPart(f"heard: {text}")])


@pytest.fixture
def flow_model() -> FlowModel:
    return FlowModel()


@pytest.fixture
def flows():
    return FlowRegistry(all_flows())


@pytest.fixture
def model_overrides(flow_model):
    return {"scripted": FunctionModel(flow_model.reply)}


@pytest.fixture
def settings(settings):
    settings.models.profiles["scripted"] = ModelProfile(model="test")
    return settings
