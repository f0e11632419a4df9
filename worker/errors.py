"""The two kinds of failure. Every error raised by a stage is one or the other."""


class AgentRuntimeError(Exception):
    """Something went wrong in agent-runtime."""

    def __init__(self, message: str | None = None):
        super().__init__(message or self.__doc__)


class PermanentError(AgentRuntimeError):
    """The message cannot be drafted as it is; retrying will not help."""


class TransientError(AgentRuntimeError):
    """A dependency failed for now; the same work may succeed later."""


class BadEvent(PermanentError):
    """The inbound event is invalid and is kept aside with its reason."""


class UnknownClient(BadEvent):
    """The event names a client that is not registered."""


class DisallowedModel(BadEvent):
    """The event asks for a model its client does not allow."""


class ModelOutputInvalid(TransientError):
    """The model answered, but not with the JSON we asked for."""


class AllModelsUnavailable(TransientError):
    """Every model in the chain failed with a transient error."""


class AllModelsRefused(PermanentError):
    """Every model in the chain refused the request for good."""
