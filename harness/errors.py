"""Named exceptions of the harness; each message says what is wrong and what to do."""


class HarnessError(Exception):
    """Base class: the CLI prints these as one clear message instead of a traceback."""


class ManifestError(HarnessError):
    """A manifest or dataset folder cannot be read at all (missing file, unreadable)."""


class DatasetInvalid(HarnessError):
    """A dataset has problems and the caller did not ask to skip invalid samples."""

    def __init__(self, message: str, problems: list) -> None:
        super().__init__(message)
        self.problems = problems


class UnsafePathError(HarnessError):
    """A path in a manifest is absolute or escapes the dataset root."""


class ImageLoadError(HarnessError):
    """An image file is missing, truncated or not an image."""


class EvaluationOnlyDataset(HarnessError):
    """A dataset with no `train` split was asked to train a model (imported data usually is test-only)."""
