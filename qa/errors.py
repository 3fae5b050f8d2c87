"""Errors that say what went wrong and what to run to mend it."""


class QAError(Exception):
    """Base class for every error the library raises on purpose."""


class EmptyQuestion(QAError, ValueError):
    """The question has no searchable text."""


class CorpusNotFound(QAError, FileNotFoundError):
    """The corpus folder does not exist."""


class EmptyCorpus(QAError, ValueError):
    """The corpus folder has no usable document."""


class IndexMismatch(QAError, ValueError):
    """The index on disk was built with other settings or by another format version."""


class IndexCorrupt(QAError, ValueError):
    """An index file is missing, truncated or altered."""


class IndexWriteError(QAError, OSError):
    """The index could not be written; the previous index, if any, is untouched."""


class UploadRejected(QAError, ValueError):
    """An uploaded file was not added to the corpus (type, size, name or content)."""


class InvalidFeedback(QAError, ValueError):
    """Feedback that cannot become a gold-set entry (e.g. the expected passage is not a quote)."""


class InvalidSetting(QAError, ValueError):
    """A setting given by the user (an address, a selection) cannot be used as it is."""
