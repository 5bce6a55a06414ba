"""The Temporal wiring every process of the project shares, kept apart from the domain (which
stays free of Temporal): the data converter and its payload codec (spec 6.1 encryption), and
the names of the project's metrics."""
