"""`python -m gateway`: the codec server and the integration ingress on
`FIELD_SERVICE_GATEWAY_PORT` (default 8088), with the worker's Temporal settings and keys."""

from __future__ import annotations

import os

import uvicorn
from temporalio.client import Client

from gateway.app import GatewaySettings, create_app
from infra.encryption import EncryptionCodec, KeyRing
from workers.config import Settings, connect
from workers.logging_setup import configure_logging
from workers.tracing import configure_tracing


def main() -> None:
    """Serve the gateway until stopped."""
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    ring = KeyRing.from_env()
    tracing = configure_tracing("fieldservice-gateway")
    holder: list[Client] = []

    async def client() -> Client:
        # Connected on first use, so the gateway starts (and serves the codec) before the
        # Temporal server is up.
        if not holder:
            holder.append(await connect(interceptors=tracing.interceptors))
        return holder[0]

    app = create_app(GatewaySettings.from_env(), client,
                     EncryptionCodec(ring) if ring else None)
    port = int(os.environ.get("FIELD_SERVICE_GATEWAY_PORT", "8088"))
    try:
        uvicorn.run(app, host=os.environ.get("FIELD_SERVICE_GATEWAY_HOST", "127.0.0.1"),
                    port=port, access_log=False, log_config=None)
    finally:
        tracing.shutdown()


if __name__ == "__main__":
    main()
