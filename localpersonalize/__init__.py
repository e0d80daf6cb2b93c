"""localpersonalize: a local, offline emulator of Amazon Personalize with a real recommender engine.

Public API: :func:`mock_personalize` (decorator and context manager) and ``__version__``.
"""

from __future__ import annotations

__version__ = "0.1.0"


def mock_personalize(func=None):
    """Mock the three Personalize services (and, through moto, S3, IAM and STS) for boto3 clients.

    Use as ``@mock_personalize`` / ``@mock_personalize()`` on a function or class, or as
    ``with mock_personalize():``. It is moto's ``mock_aws`` with localpersonalize in place of moto's
    Personalize backend, so it shares state with a ``mock_aws`` the caller opened too, and state is reset
    when the outermost mock ends.
    """
    from moto import mock_aws

    from .moto_compat import install

    install()
    return mock_aws(func) if callable(func) else mock_aws()


__all__ = ["mock_personalize", "__version__"]
