"""jeton-radius: RADIUS (RFC 2865 PAP, RFC 3579 Message-Authenticator, RFC 5997 Status-Server, RFC 5080 duplicate
detection) in front of the verifier, over the same token store as the booklet (DESIGN.md §4.1).

Layers: ``clients`` (the declared gateways and their sealed secrets), ``state`` (sealed challenge States),
``handler`` (one packet in, one reply out: no sockets), ``server`` (UDP, pre-forked workers), ``cli`` (the
``jeton-radius`` command) and ``admin_cli`` (``jeton-admin radius-clients``). Packets are decoded and encoded by
pyrad; see docs/radius.md.
"""
