"""Model profiles → pydantic-ai models. Called only inside activities: credentials stay there.

Model strings:
  ``offline``                  the honest offline model (the default with no provider)
  ``test``                     pydantic-ai's TestModel
  ``function:pkg.mod:fn``      FunctionModel(fn) — a scripted model importable by every worker
  ``openai:NAME`` + base_url   an OpenAI-compatible endpoint (api_key from the profile)
  anything else                pydantic-ai's own inference (``anthropic:…``, ``openai:…`` with env keys)
"""

from __future__ import annotations

import importlib
from typing import Any

from pydantic_ai.models import Model, infer_model
from pydantic_ai.models.function import FunctionModel
from pydantic_ai.models.test import TestModel

from ..errors import AgentrtError
from ..settings import ModelProfile, Settings
from ..tiers import Tier
from .offline_model import OfflineModel


class UnknownModelProfileError(AgentrtError):
    key = "model_profile_unknown"


class ModelConfigError(AgentrtError):
    key = "model_profile_invalid"


def _import(path: str) -> Any:
    module, _, attr = path.partition(":")
    if not module or not attr:
        raise ModelConfigError(f"expected 'package.module:attribute', got {path!r}")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ModelConfigError(f"cannot import {path!r}: {type(exc).__name__}") from None


def build_model(profile: ModelProfile) -> Model:
    spec = profile.model
    if spec == "offline":
        return OfflineModel()
    if spec == "test":
        return TestModel()
    if spec.startswith("function:"):
        return FunctionModel(_import(spec[len("function:") :]))
    if spec.startswith("openai:") and profile.base_url:
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider

        api_key = profile.api_key.get_secret_value() if profile.api_key else "not-needed"
        provider = OpenAIProvider(base_url=profile.base_url, api_key=api_key)
        return OpenAIChatModel(spec[len("openai:") :], provider=provider)
    try:
        return infer_model(spec)
    except Exception as exc:
        raise ModelConfigError(f"model {spec!r} cannot be built: {type(exc).__name__}") from None


class ModelResolver:
    """Profile name → (tier, model). ``overrides`` let an in-process test worker plug in a FunctionModel."""

    def __init__(self, settings: Settings, overrides: dict[str, Model] | None = None) -> None:
        self._settings = settings
        self._overrides = dict(overrides or {})
        self._built: dict[str, Model] = {}

    def profile(self, name: str) -> ModelProfile:
        try:
            return self._settings.models.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self._settings.models.profiles))
            raise UnknownModelProfileError(f"model profile {name!r} is not configured (known: {known})") from None

    def tier(self, name: str) -> Tier:
        return self.profile(name).tier

    def model(self, name: str) -> Model:
        if name in self._overrides:
            return self._overrides[name]
        if name not in self._built:
            self._built[name] = build_model(self.profile(name))
        return self._built[name]

    def override(self, name: str, model: Model) -> None:
        self._overrides[name] = model
