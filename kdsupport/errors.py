"""Exception hierarchy of kdsupport.

One root, :class:`KdsupportError`, with narrow children that carry structured fields. Every
exception here can be pickled (papermill and multiprocessing move them between processes), so
each keeps its constructor arguments in ``args``.

kdsupport is for training and case conferences with synthetic patients; it is not a medical
device and its outputs need a clinician's own judgement.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "KdsupportError",
    "Problem",
    "InvalidInputError",
    "KnowledgeBaseError",
    "DependencyError",
    "AttemptStoreError",
    "OutputError",
]


class KdsupportError(Exception):
    """Root of every error kdsupport raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input, at a field path such as ``trials[1].weeks``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InvalidInputError(KdsupportError, ValueError):
    """An input (a case record, an option) is invalid.

    Parameters
    ----------
    problems
        Every problem found, each naming its field path. All are reported at once.
    source
        Where the input came from (a file name), for messages.
    """

    def __init__(self, problems: list[Problem] | tuple[Problem, ...], source: str | None = None):
        self.problems = tuple(problems)
        self.source = source
        super().__init__(self.problems, source)

    def __str__(self) -> str:
        head = f"{self.source}: " if self.source else ""
        n = len(self.problems)
        lines = [f"{head}{n} problem{'s' if n != 1 else ''} found"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


class KnowledgeBaseError(KdsupportError):
    """The packaged knowledge base is invalid; lists every problem found."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        return "knowledge base invalid:\n" + "\n".join(f"  {p}" for p in self.problems)


class DependencyError(KdsupportError, ImportError):
    """An optional dependency needed for this feature is not installed."""

    def __init__(self, package: str, feature: str, extra: str = "notebooks"):
        self.package = package
        self.feature = feature
        self.extra = extra
        super().__init__(package, feature, extra)

    def __str__(self) -> str:
        return (
            f"{self.feature} needs the '{self.package}' package: "
            f"pip install 'kdsupport[{self.extra}]'"
        )


class AttemptStoreError(KdsupportError):
    """The attempt log cannot be opened or written: the answer was not recorded.

    Parameters
    ----------
    location
        The store (a file path or URL without secrets).
    reason
        What went wrong, in plain words.
    """

    def __init__(self, location: str, reason: str):
        self.location = location
        self.reason = reason
        super().__init__(location, reason)

    def __str__(self) -> str:
        return f"attempt log {self.location}: {self.reason}"


class OutputError(KdsupportError):
    """An output could not be written (a full disk, a read-only folder); the old file is kept."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(path, reason)

    def __str__(self) -> str:
        return f"could not write {self.path}: {self.reason}; any previous file is unchanged"
