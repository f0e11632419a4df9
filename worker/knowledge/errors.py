"""Why a knowledge-base request was refused: defined with every other error in
worker/errors.py (one exception root); named here too for the knowledge-base modules."""

from worker.errors import (  # noqa: F401
    KnowledgeError,
    InvalidInput,
    InvalidName,
    NotFound,
    Conflict,
    TooLarge,
    UnsupportedType,
    ExtractionFailed,
)
