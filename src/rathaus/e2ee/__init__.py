"""End-to-end encryption, the server's part: a directory of devices' public keys and a relay of
key envelopes it cannot open. Private keys and plain media keys never reach the server."""
