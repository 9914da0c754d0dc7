"""The shared core of the API simulators: server, clock, faults, counters, control plane, population.

A simulator wires it like this (see tests/connectors/sandbox_core/tiny_sim.py for a complete one):

    app = Starlette(routes=control_routes(state) + api_routes)          # state: a SimulatorControl
    app = sandbox_middleware(app, injector=state.injector, counters=state.counters,
                             latency_ms=lambda: state.latency_ms, default_error_body=error_body)
    with SandboxServer(app, tls=make_tls(directory)) as server:          # port 0: a free port
        ...  # server.base_url
"""
