"""pytest knowledge: node ids, JUnit reports, version pins, pytest invocations."""
