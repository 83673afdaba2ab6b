"""chaos: deterministic fault injection for jido_trio systems.

This package is a skeleton in this release: deterministic runs, faults,
scenarios and the CLI arrive with the chaos issues. It depends on jido_trio;
jido_trio never imports it.
"""
