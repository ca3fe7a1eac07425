"""The integration authoring API: everything an integration author imports, nothing internal.

    from runtime.integrations import Integration, SetupContext, ConfigFlow, SimpleConfigFlow, FieldDescriptor
    from runtime.integrations import Entity, Health  # entity providers
"""

from .entity import Entity, Health
from .fields import FieldDescriptor, SelectOption
from .flow import AbortFlow, ConfigFlow, FlowResult, FlowResultType
from .integration import Integration, Scope, Secrets, SetupContext
from .manifest import IntegrationManifest
from .model_form import ModelConfigFlow
from .netguard import address_refusal, url_refusal
from .simple_flow import SimpleConfigFlow

__all__ = [
    "AbortFlow",
    "ConfigFlow",
    "Entity",
    "FieldDescriptor",
    "FlowResult",
    "FlowResultType",
    "Health",
    "Integration",
    "IntegrationManifest",
    "ModelConfigFlow",
    "Scope",
    "Secrets",
    "SelectOption",
    "SetupContext",
    "SimpleConfigFlow",
    "address_refusal",
    "url_refusal",
]
