"""Workflows that break determinism on purpose, for tests/workflows/test_sandbox.py: they live
in a package passed through the sandbox, as the project's `workflows` package is."""
