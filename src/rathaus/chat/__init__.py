"""Persistent, end-to-end encrypted chat: Rathaus as the MLS delivery service (RFC 9420).

``mls_wire`` reads the clear header of MLS messages, ``store`` holds the ordered events of each
room's group, ``service`` keeps the delivery rules (one commit per epoch, idempotent client ids,
authorisation), ``socket`` is the one chat WebSocket of a client, ``api`` the device directory.
The server never sees plaintext, a private key or an epoch secret.
"""
