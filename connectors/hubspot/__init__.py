"""HubSpot: the connector (`connectors.hubspot.connector`) and its API simulator (`sandbox/`).

Nothing is imported here, so loading the simulator never pulls in the SDK or the connector.
"""
