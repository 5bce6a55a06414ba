"""The HTTP gateway (spec 6.1): the Temporal codec server for the Web UI and the CLI, and the
signed ingress through which integrations open cases, send events and read a case's status."""
