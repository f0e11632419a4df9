"""The two kinds of failure. Every error raised by a stage is one or the other."""


class AgentRuntimeError(Exception):
    """Something went wrong in agent-runtime."""

    def __init__(self, message: str | None = None):
        super().__init__(message or self.__doc__)


class PermanentError(AgentRuntimeError):
    """The message cannot be drafted as it is; retrying will not help."""


class ConfigurationError(AgentRuntimeError):
    """A required setting is missing or unusable."""


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


class CircuitOpen(TransientError):
    """The model's circuit breaker is open: it is skipped until the provider recovers."""


class AllModelsUnavailable(TransientError):
    """The models in the chain failed with transient errors; try again later."""


class AllModelsRefused(PermanentError):
    """No model will draft this now: each refused it or is switched off by its breaker."""


class Deferred(TransientError):
    """The client is over its rate limit or daily budget; the message waits."""

    def __init__(self, message: str | None = None, until=None):  # noqa: ANN001 - datetime
        super().__init__(message)
        self.until = until  # when the client may draft again


class RecallTimedOut(TransientError):
    """Recall took longer than its time budget; the draft is written without memory."""
