"""`python -m gateway`: the codec server and the integration ingress on
`FIELD_SERVICE_GATEWAY_PORT` (default 8088), with the worker's Temporal settings and keys. A
setting that cannot work stops it at once with one sentence naming the setting (exit 2)."""

from __future__ import annotations

import os
import sys

import uvicorn
from temporalio.client import Client

from gateway.app import GatewaySettings, create_app
from gateway.codec import CodecSettingError
from gateway.integrations import IntegrationSettingError
from gateway.metrics import serve_metrics
from gateway.server import protocol_with_deadline
from infra.encryption import EncryptionCodec, EncryptionKeyError, KeyRing, UnknownKeys
from infra.secret_files import SecretFileError, load_secret_files
from workers.config import Settings, connect
from workers.logging_setup import configure_logging
from workers.tracing import configure_tracing


def main() -> None:
    """Serve the gateway until stopped."""
    try:
        load_secret_files()
    except SecretFileError as err:
        print(f"gateway: {err}", file=sys.stderr)
        sys.exit(2)
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    try:
        ring = KeyRing.from_env()
        gateway_settings = GatewaySettings.from_env()
    except (EncryptionKeyError, IntegrationSettingError, CodecSettingError, ValueError) as err:
        print(f"gateway: {err}", file=sys.stderr)
        sys.exit(2)
    tracing = configure_tracing("fieldservice-gateway")
    holder: list[Client] = []

    # Connected on first use (`client` below), so the gateway starts (and serves the codec)
    # before the Temporal server is up.
    # A payload under a key the gateway lacks (a codec request for an old case, an event
    # encoded by another writer) is logged, naming the key ID (spec 6.1).
    unknown_keys = UnknownKeys()

    async def client() -> Client:
        if not holder:
            holder.append(await connect(interceptors=tracing.interceptors,
                                        on_unknown_key=unknown_keys))
        return holder[0]

    app = create_app(gateway_settings, client,
                     EncryptionCodec(ring, unknown_keys) if ring else None)
    port = int(os.environ.get("FIELD_SERVICE_GATEWAY_PORT", "8088"))
    metrics_port = os.environ.get("FIELD_SERVICE_GATEWAY_METRICS_PORT")
    if metrics_port:
        # Its own port: the public one (behind an Ingress) never serves the metrics.
        serve_metrics(os.environ.get("FIELD_SERVICE_METRICS_HOST", "0.0.0.0"),  # noqa: S104
                      int(metrics_port))
    try:
        uvicorn.run(app, host=os.environ.get("FIELD_SERVICE_GATEWAY_HOST", "127.0.0.1"),
                    port=port, access_log=False, log_config=None,
                    http=protocol_with_deadline(gateway_settings.header_seconds),
                    timeout_keep_alive=5)
    finally:
        tracing.shutdown()


if __name__ == "__main__":
    main()
