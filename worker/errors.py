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


# Knowledge base: why a request was refused; `http_status` is what the HTTP API answers.
class KnowledgeError(AgentRuntimeError):
    """The knowledge-base request was refused."""

    http_status = 400


class InvalidInput(KnowledgeError):
    """A name, folder, segmentation or other input is not acceptable."""


class InvalidName(InvalidInput):
    """A name holds invisible format characters (zero-width, bidi controls); refused as
    unprocessable, since it would not read as what it is."""

    http_status = 422


class NotFound(KnowledgeError):
    """No such document or folder for this client."""

    http_status = 404


class Conflict(KnowledgeError):
    """The name is already taken in that folder."""

    http_status = 409


class TooLarge(KnowledgeError):
    """The file is larger than the upload limit."""

    http_status = 413


class UnsupportedType(KnowledgeError):
    """The file type is not supported (Markdown/text, HTML, CSV, PDF, DOCX are)."""

    http_status = 415


class ExtractionFailed(PermanentError):
    """No text could be read from the document; uploading it again unchanged will not help."""
