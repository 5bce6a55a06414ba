"""Case workflows: one module per process plus the shared pieces (the case base, visit
scheduling). Workflow code orchestrates; rules live in `domain.rules`, side effects in
`activities`."""
