"""Why a knowledge-base request was refused. `http_status` is what the HTTP API answers."""

from __future__ import annotations

from worker.errors import AgentRuntimeError, PermanentError


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
