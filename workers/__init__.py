"""The worker process (`python -m workers`): configuration, client, registration of every
workflow and activity, search-attribute bootstrap, logging and clean shutdown."""
