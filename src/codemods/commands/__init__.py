"""Top-level commands beside `apply`: the demo and its sample repository, triage, the CircleCI client."""
