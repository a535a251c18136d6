#!/bin/sh
# Runs a command in a network namespace of its own that has only loopback addresses:
# lo (127.0.0.1) and a veth "rtlo0" holding 127.0.0.2, which Janus gathers ICE candidates on
# (Janus skips loopback interfaces). Test media thus never reach any other address.
set -eu
if [ "${RATHAUS_TEST_NETNS:-}" = "1" ]; then
    exec "$@"
fi
exec unshare --net -- sh -c '
    set -e
    ip link set lo up
    ip link add rtlo0 type veth peer name rtlo1
    sysctl -qw net.ipv6.conf.rtlo0.disable_ipv6=1 net.ipv6.conf.rtlo1.disable_ipv6=1
    ip addr add 127.0.0.2/32 dev rtlo0
    ip link set rtlo0 up
    ip link set rtlo1 up
    export RATHAUS_TEST_NETNS=1 RATHAUS_TEST_MEDIA_IP=127.0.0.2 RATHAUS_TEST_MEDIA_IFACE=rtlo0
    exec "$@"
' in-test-network "$@"
