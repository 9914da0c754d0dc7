"""`syncd sandbox`: run the HubSpot and Salesforce simulators on loopback for demos, tests and benchmarks."""

from __future__ import annotations

import json
import logging
import signal
import tempfile
import threading
from contextlib import ExitStack
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from connectors.hubspot.sandbox import HubSpotSandbox
    from connectors.salesforce.sandbox import SalesforceSandbox

log = logging.getLogger(__name__)

_SERVE_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@click.group()
def sandbox() -> None:
    """Run the API simulators (HubSpot and Salesforce) on loopback."""


@sandbox.command()
@click.option(
    "--hubspot-port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 picks a free port."
)
@click.option(
    "--salesforce-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="0 picks a free port.",
)
@click.option(
    "--tls-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the test CA and server certificate are kept (reused when present). Default: a temporary "
    "directory removed on exit.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the shared population.")
@click.option(
    "--contacts",
    type=click.IntRange(min=0),
    default=200,
    show_default=True,
    help="Size of the shared population both simulators seed from (they overlap like real orgs).",
)
@click.option(
    "--latency-ms",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Latency added to every API call.",
)
def serve(
    hubspot_port: int,
    salesforce_port: int,
    tls_dir: Path | None,
    seed: int,
    contacts: int,
    latency_ms: float,
) -> None:
    """Serve both simulators until SIGTERM or Ctrl-C.

    Prints one line of JSON to stdout: base URLs, the CA file and working credentials for each.
    HubSpot is served over HTTP, Salesforce over HTTPS (simple-salesforce forces https) with the CA.
    """
    # Imported here so `syncd --help` does not load the simulators.
    from connectors.hubspot.sandbox import HubSpotSandbox
    from connectors.salesforce.sandbox import SalesforceSandbox
    from connectors.sandbox_core.clock import SimClock
    from connectors.sandbox_core.server import make_tls

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in _SERVE_SIGNALS}
    try:
        with ExitStack() as stack:
            if tls_dir is None:
                tls_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="syncd-sandbox-")))
            tls = make_tls(tls_dir)
            # One clock for both: moving time on either control plane moves it for the whole "world".
            # Frozen while both seed, so they build the shared population at the very same instant.
            clock = SimClock(frozen=True)
            hubspot = HubSpotSandbox(
                seed=seed, contacts=contacts, latency_ms=latency_ms, port=hubspot_port, clock=clock
            )
            salesforce = SalesforceSandbox(
                seed=seed, people=contacts, latency_ms=latency_ms, tls=tls, port=salesforce_port, clock=clock
            )
            _start(stack, hubspot, "HubSpot", hubspot_port, "--hubspot-port")
            _start(stack, salesforce, "Salesforce", salesforce_port, "--salesforce-port")
            clock.unfreeze()
            description = _describe(hubspot, salesforce, str(tls.ca_pem))
            click.echo(json.dumps({**description, "seed": seed, "contacts": contacts}))
            log.info(
                "sandbox serving HubSpot on %s and Salesforce on %s",
                hubspot.base_url,
                salesforce.instance_url,
            )
            while not stop.wait(0.5):
                pass
            log.info("sandbox stopping")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _start(
    stack: ExitStack, simulator: HubSpotSandbox | SalesforceSandbox, name: str, port: int, option: str
) -> None:
    try:
        simulator.start()
    except OSError as exc:
        raise click.ClickException(
            f"the {name} simulator cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}) — "
            f"choose another {option}, or 0 for a free port"
        ) from exc
    stack.callback(simulator.stop)


def _describe(hubspot: HubSpotSandbox, salesforce: SalesforceSandbox, ca_file: str) -> dict[str, Any]:
    return {
        "hubspot": {
            "base_url": hubspot.base_url,
            "access_token": hubspot.access_token,
            "control_url": f"{hubspot.base_url}/__sandbox",
        },
        "salesforce": {
            "instance_url": salesforce.instance_url,
            "token_url": salesforce.token_url,
            "username": salesforce.username,
            "password": salesforce.password,
            "security_token": salesforce.security_token,
            "client_id": salesforce.client_id,
            "client_secret": salesforce.client_secret,
            "ca_file": ca_file,
            "control_url": f"{salesforce.instance_url}/__sandbox",
        },
        "ca_file": ca_file,
    }


if __name__ == "__main__":
    sandbox()
