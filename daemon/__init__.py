"""attendd — the attendance integration daemon.

The application layer: configuration, logging, the local store, sync
orchestration, evaluation through :mod:`rules`, the push to the scoring DB,
bulletins and the command line. It depends on :mod:`drivers` and
:mod:`rules`; neither of them depends on it.
"""

#: The one place the version is written: pyproject.toml reads it (``[tool.setuptools.dynamic]``),
#: so the installed metadata, ``rules_version`` and the bulletin footer always agree.
__version__ = "0.1.0"
