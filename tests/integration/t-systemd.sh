# The systemd user units, and the agent under socket activation: systemd-analyze verifies the
# units; systemd-socket-activate stands in for the user manager (none runs here), handing the
# agent a socket that a client connected to before the agent started. sd_notify's messages
# go to a socket of ours; SIGHUP (the units' ExecReload) re-reads the configuration.
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null && command -v systemd-socket-activate >/dev/null ||
	fail "systemd-analyze or systemd-socket-activate missing (package systemd; scripts/install-deps)"

# The units as installed, but starting the agent just built; man pages from the source tree.
mkdir -p "$T/units" "$T/man/man1" "$T/man/man5" "$T/run"
chmod 700 "$T/run"
sed "s|^ExecStart=.*/p11guard-agent |ExecStart=$AGENT |" \
	"$top_builddir/packaging/systemd/p11guard-agent.service" > "$T/units/p11guard-agent.service"
cp "$top_srcdir/packaging/systemd/p11guard-agent.socket" "$T/units/"
grep -qx "ExecStart=$AGENT -D" "$T/units/p11guard-agent.service" || fail "ExecStart not found"
for m in p11guard-agent.1 p11guard.1; do ln -s "$top_srcdir/man/$m" "$T/man/man1/$m"; done
ln -s "$top_srcdir/man/p11guard-policy.5" "$T/man/man5/"
MANPATH="$T/man" XDG_RUNTIME_DIR="$T/run" systemd-analyze verify --user \
	"$T/units/p11guard-agent.socket" "$T/units/p11guard-agent.service" > "$T/verify.log" 2>&1 ||
	fail "systemd-analyze verify: $(cat "$T/verify.log")"
for line in "ListenStream=%t/p11guard/agent.sock" "SocketMode=0600" "DirectoryMode=0700"; do
	grep -qx "$line" "$T/units/p11guard-agent.socket" || fail "the socket unit lacks $line"
done
for line in "Type=notify" 'ExecReload=/bin/kill -HUP $MAINPID'; do
	grep -qx "$line" "$T/units/p11guard-agent.service" || fail "the service unit lacks $line"
done
ok "the units pass systemd-analyze verify --user"

make_token t1 ed25519
make_token t2 p256
make_askpass "$PIN"
write_config "$T/config.yaml" t1

# sd_notify's receiving end: each datagram becomes a line of $T/notify.log.
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
with open(sys.argv[2], "a") as log:
    while True:
        log.write(s.recv(4096).decode() + "\n"); log.flush()' "$T/notify.sock" "$T/notify.log" &
PIDS="$PIDS $!"
wait_for 5 test -S "$T/notify.sock" || fail "the notify listener did not start"

SOCK=$T/run/agent.sock
systemd-socket-activate -l "$SOCK" -E SOFTHSM2_CONF -E SSH_ASKPASS -E SSH_ASKPASS_REQUIRE \
	-E DISPLAY -E NOTIFY_SOCKET="$T/notify.sock" \
	"$AGENT" -D --config "$T/config.yaml" > "$T/agent.log" 2>&1 &
ACTIVATOR=$!
PIDS="$PIDS $ACTIVATOR"
wait_for 5 test -S "$SOCK" || fail "systemd-socket-activate did not listen"
! grep -q "policy in force" "$T/agent.log" || fail "the agent started before a client came"
SSH_AUTH_SOCK=$SOCK timeout 10 ssh-add -l > "$T/list" 2>&1 || fail "first client: $(cat "$T/list")"
grep -q ED25519 "$T/list" || fail "the first client did not get the keys: $(cat "$T/list")"
wait_for 5 grep -qx "READY=1" "$T/notify.log" || fail "no READY=1: $(cat "$T/notify.log")"
! grep -q "^SSH_AUTH_SOCK=" "$T/agent.log" || fail "a socket-activated agent printed an environment"
ok "a client that connected before the agent started is served; READY=1 is sent"

AGENT_PID=$(pgrep -n -f "$AGENT -D --config") || fail "no agent process"
write_config "$T/config.yaml" t1 t2
kill -HUP "$AGENT_PID"
wait_for 5 sh -c "SSH_AUTH_SOCK=$SOCK ssh-add -l | grep -q ECDSA" ||
	fail "SIGHUP did not re-read the configuration"
wait_for 5 sh -c "grep -x 'RELOADING=1' '$T/notify.log' >/dev/null &&
	[ \$(grep -cx 'READY=1' '$T/notify.log') -ge 2 ]" ||
	fail "no RELOADING=1 then READY=1: $(cat "$T/notify.log")"
ok "SIGHUP (ExecReload) re-reads the config, with RELOADING=1 and READY=1"

# The peer-uid check applies to a handed-in socket as to our own.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	chmod 755 "$T" && chmod 777 "$T/run" "$SOCK"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups env SSH_AUTH_SOCK="$SOCK" \
		ssh-add -l 2>&1) && fail "uid 65534 was served on the handed-in socket: $out"
	grep -q "refused connection from uid 65534" "$T/agent.log" || fail "refusal not logged"
	ok "another uid is refused on the handed-in socket"
fi

kill "$AGENT_PID"
wait_for 5 grep -qx "STOPPING=1" "$T/notify.log" || fail "no STOPPING=1"
wait_for 5 sh -c "! kill -0 $AGENT_PID 2>/dev/null" || fail "the agent did not stop"
[ -S "$SOCK" ] || fail "the agent removed the socket systemd owns"
ok "SIGTERM: STOPPING=1, and systemd's socket stays"
