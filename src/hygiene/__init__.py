"""hygiene: keep a marketplace seller's mail with Amazon timely and courteous.

The package is a library first; ``hygiene.cli`` is a thin click layer over it.
Importing this package is deliberately cheap (no SQLAlchemy, IMAP or plotting).
"""
