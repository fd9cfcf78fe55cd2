"""``stabfix ci``: the CircleCI side of the stabilisation loop.

* :mod:`.client`: the API client (:class:`Client`: v2 and v1.1, pagination, retries with backoff
  and ``Retry-After``, the token from ``CIRCLECI_TOKEN`` only).
* :mod:`.failures`: ``ci failures`` (each failed job's step output and test results, written for
  ``stabfix triage``) and ``ci status``.
* :mod:`.watch`: ``ci watch`` (follow a pipeline until every workflow finished).
* :mod:`.history`: ``ci history`` (per test across the last N pipelines: runs, failures, rate;
  CircleCI's flaky-test insight).
* :mod:`.branch`: the branch rule (``[tool.stabfix.ci] branch_pattern`` or the config's branch
  filters) and ``ci branch``.
* :mod:`.cli`: the click group, ``codemods.commands.circleci:group``.
"""

from __future__ import annotations

from codemods.commands.circleci.cli import group, main
from codemods.commands.circleci.client import (
    CircleCIError,
    CircleCIUnavailable,
    Client,
    check_token,
    latest_pipeline,
    project_slug,
    segment,
)
from codemods.commands.circleci.failures import (
    JobFailure,
    fetch_failures,
    junit_xml,
    pipeline_status,
)

__all__ = ["CircleCIError", "CircleCIUnavailable", "Client", "JobFailure", "check_token", "fetch_failures",
           "group", "junit_xml", "latest_pipeline", "main", "pipeline_status", "project_slug", "segment"]
