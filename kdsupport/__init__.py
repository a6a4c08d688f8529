"""kdsupport: clinical training and decision support for ketamine and esketamine in TRD.

Jupyter notebooks, a trainee app and a command line built on one transparent rule engine:
every conclusion is three-valued (met / not met / unknown), shows its inputs, threshold and
source, and every clinical number lives in the versioned knowledge base
(``kdsupport/knowledge``).

For training and case conferences with **synthetic patients only**. Not a medical device and
not clinical advice: outputs support, and never replace, a clinician's own judgement.

Heavy modules are imported lazily, so ``import kdsupport`` stays fast::

    from kdsupport import load_case, assess
    assessment = assess(load_case("data/synthetic/cases/tr-001.yaml"))
"""

from __future__ import annotations

import importlib
from typing import Any

from kdsupport._version import __version__

__all__ = [
    "__version__",
    "load_case",
    "validate_case",
    "assess",
    "to_text",
    "load_knowledge_base",
    "Status",
    "InvalidInputError",
    "KnowledgeBaseError",
    "KdsupportError",
]

_LAZY = {
    "load_case": ("kdsupport.records.case", "load_case"),
    "validate_case": ("kdsupport.records.case", "validate_case"),
    "assess": ("kdsupport.rules.assess", "assess"),
    "to_text": ("kdsupport.render.text", "to_text"),
    "load_knowledge_base": ("kdsupport.knowledge", "load"),
    "Status": ("kdsupport.rules.result", "Status"),
    "InvalidInputError": ("kdsupport.errors", "InvalidInputError"),
    "KnowledgeBaseError": ("kdsupport.errors", "KnowledgeBaseError"),
    "KdsupportError": ("kdsupport.errors", "KdsupportError"),
}


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'kdsupport' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
