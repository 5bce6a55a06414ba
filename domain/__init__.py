"""Shared domain of fieldservice: pydantic models of inputs, events, status and policy, and the
pure business rules the workflows call. Nothing here does I/O or reads a clock, so it is safe to
pass through the workflow sandbox and cheap to unit-test."""
