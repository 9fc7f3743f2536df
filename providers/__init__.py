"""Accounting providers behind one protocol; see `providers.base` for the contract.

Nothing is imported here, so `import providers.base` (the store does) stays light; build the
configured providers with `providers.registry.build_providers`.
"""
