"""Helpers for vswitch's system tests: private daemons, namespaces, veth pairs, traffic.

Everything here creates uniquely named objects (see names.py) and knows how to remove them, so
that tests can run next to each other, next to a developer's own switch, and after a crashed run.
"""
