"""Cryptography for the portal: OpenPGP to editors, the ephemeral spool, codenames.

No Django imports here: the editors' client uses the same OpenPGP wrapper.
"""
