"""Salesforce: the connector (`connector.SalesforceConnector`) and, in `sandbox/`, its simulator.

Kept import-free so that loading the simulator does not load the client stack and vice versa.
"""
