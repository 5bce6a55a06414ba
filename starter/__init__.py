"""The operator and integration CLI (`python -m starter`) and the typed client helpers it uses."""
