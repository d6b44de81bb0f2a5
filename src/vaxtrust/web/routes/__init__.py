"""Routers: pages for verifiers, citizens, complaints and officers; the JSON API (``api``)."""
