"""Worker and client configuration from the environment (spec section 6)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic_settings import BaseSettings, SettingsConfigDict
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfig

DEFAULT_TASK_QUEUE = "field-service"
DEFAULT_ADDRESS = "localhost:7233"


class Settings(BaseSettings):
    """`FIELD_SERVICE_*` settings; Temporal's own (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`,
    TLS, API key, `TEMPORAL_PROFILE`) are read by `temporalio.envconfig`."""

    model_config = SettingsConfigDict(env_prefix="FIELD_SERVICE_", extra="ignore")

    task_queue: str = DEFAULT_TASK_QUEUE
    store: str = "var/fieldservice.db"
    # When set, every record is also posted to `{delivery_url}/{kind}` (activities.http_delivery).
    delivery_url: str | None = None
    delivery_timeout_seconds: float = 10.0
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    register_search_attributes: bool = True


def connect_config() -> dict[str, Any]:
    """The client connect arguments from the environment, defaulting to the local server."""
    config: dict[str, Any] = dict(ClientConfig.load_client_connect_config())
    config.setdefault("target_host", DEFAULT_ADDRESS)
    config.setdefault("namespace", "default")
    return config


async def connect() -> Client:
    """A client configured from the environment with the pydantic data converter."""
    return await Client.connect(**connect_config(), data_converter=pydantic_data_converter)
