"""Jeton provisioner: the host side of the serial protocol, flashing, seeding, batch and export."""
