"""Pure business rules: typed functions of their arguments, no I/O, no clock."""
