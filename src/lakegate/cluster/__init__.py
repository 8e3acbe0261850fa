"""Many lakegate nodes on one catalog: the node registry, leases, the leader of housekeeping.

Every ``lakegate up`` is a node. It registers in the catalog (``registry.py``), renews its
heartbeat and the leases of what it holds (``heartbeat.py``: ledger claims, query slots), and
may lead the housekeeping that must run once (``leader.py``: archive settling, retention, copy
sweeps, acceleration). No node is special: any may die; what it held is taken over by another
once its lease runs out.
"""
