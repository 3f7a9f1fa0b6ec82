# ssh-agent 10.x's flags and socket places: by default a socket in ~/.ssh/agent named after
# the host, stale sockets cleaned at start (-U: not) and by -u (-uu: of every host), -T for
# a private directory under $TMPDIR, -V for the version on standard error.
. "$(dirname "$0")/lib.sh"

make_token t1 p256
make_askpass "$PIN"
write_config "$T/config.yaml" t1
export HOME="$T/home"
mkdir -m 700 "$HOME"
unset SSH_AUTH_SOCK SSH_AGENT_PID

"$AGENT" -V > "$T/v.out" 2> "$T/v.err" || fail "-V exited $?"
[ ! -s "$T/v.out" ] || fail "-V wrote to standard output: $(cat "$T/v.out")"
grep -q "^p11guard-agent [0-9.]*, OpenSSL 3" "$T/v.err" || fail "-V printed: $(cat "$T/v.err")"
ok "-V: the version on standard error, as ssh-agent"

# OpenSSH's host name hash (misc-agent.c): SHA-512 of the host name, byte i mapped to
# one of 62 letters and digits. Both agents must name, and so clean, the same sockets.
HASH=$(python3 -c 'import hashlib, socket, string
c = string.ascii_lowercase + string.ascii_uppercase + string.digits
print("".join(c[b % 62] for b in hashlib.sha512(socket.gethostname().encode()).digest()[:10]))')
AGENTDIR=$HOME/.ssh/agent

eval "$("$AGENT" -s --config "$T/config.yaml")" > /dev/null
PIDS="$PIDS $SSH_AGENT_PID"
case $SSH_AUTH_SOCK in
"$AGENTDIR"/s.$HASH.agent.??????????) ;;
*) fail "default socket $SSH_AUTH_SOCK, want $AGENTDIR/s.$HASH.agent.XXXXXXXXXX" ;;
esac
[ "$(stat -c %a "$HOME/.ssh") $(stat -c %a "$AGENTDIR") $(stat -c %a "$SSH_AUTH_SOCK")" = \
	"700 700 600" ] || fail "modes ~/.ssh, ~/.ssh/agent, socket: $(stat -c %a "$HOME/.ssh" \
	"$AGENTDIR" "$SSH_AUTH_SOCK" | tr '\n' ' ')"
ssh-add -l | grep -q "ECDSA" || fail "the agent on the default socket does not serve"
LIVE=$SSH_AUTH_SOCK
ok "default: socket in ~/.ssh/agent named after the host, as ssh-agent 10.x"

# Sockets for the clean-up: the live agent's (made to look old), a dead one of this host
# (old), a dead one that is recent, and a dead one of another host (old).
make_dead_socket() {    # make_dead_socket NAME AGE_SECONDS
	python3 -c 'import os, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()
t = time.time() - int(sys.argv[2]); os.utime(sys.argv[1], (t, t))' "$AGENTDIR/$1" "$2"
}
python3 -c 'import os, sys, time; t = time.time() - 7200; os.utime(sys.argv[1], (t, t))' "$LIVE"
fresh_dead() {
	make_dead_socket "s.$HASH.agent.deadoldone" 7200
	make_dead_socket "s.$HASH.agent.deadrecent" 60
	make_dead_socket "s.otherhost0.agent.deadoldone" 7200
}
present() { for s in "$@"; do [ -S "$AGENTDIR/$s" ] || return 1; done; }
absent() { for s in "$@"; do [ ! -e "$AGENTDIR/$s" ] || return 1; done; }
LIVE_NAME=$(basename "$LIVE")

fresh_dead
"$AGENT" -U -d --config "$T/config.yaml" > "$T/agentU.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 10 grep -q "^SSH_AUTH_SOCK=" "$T/agentU.log" || fail "-U agent did not start"
present "s.$HASH.agent.deadoldone" || fail "-U removed a stale socket"
ok "-U: stale sockets stay"

"$AGENT" -u sh -c true > /dev/null 2>&1 && fail "-u with a command was accepted"
out=$("$AGENT" -u) || fail "-u exited $?"
[ "$out" = "Deleted 1 stale agent socket(s) in ~/.ssh/agent" ] || fail "-u printed: $out"
absent "s.$HASH.agent.deadoldone" || fail "-u left this host's stale socket"
present "$LIVE_NAME" "s.$HASH.agent.deadrecent" "s.otherhost0.agent.deadoldone" ||
	fail "-u removed a live, recent or other host's socket: $(ls "$AGENTDIR")"
ssh-add -l | grep -q "ECDSA" || fail "the live agent stopped serving after -u"
out=$("$AGENT" -uu) || fail "-uu exited $?"
absent "s.otherhost0.agent.deadoldone" || fail "-uu left another host's stale socket"
present "$LIVE_NAME" "s.$HASH.agent.deadrecent" || fail "-uu removed a live or recent socket"
ok "-u: this host's stale sockets go, live and recent ones stay; -uu: every host's"

rm -f "$AGENTDIR/s.$HASH.agent.deadrecent"
make_dead_socket "s.$HASH.agent.deadoldone" 7200
eval "$("$AGENT" -s --config "$T/config.yaml")" > /dev/null
PIDS="$PIDS $SSH_AGENT_PID"
absent "s.$HASH.agent.deadoldone" || fail "start-up did not clean this host's stale socket"
present "$LIVE_NAME" || fail "start-up removed a live agent's socket"
SECOND=$SSH_AUTH_SOCK
"$AGENT" -k > /dev/null || fail "-k"
wait_for 5 test ! -e "$SECOND" || fail "-k left the socket behind"
[ -d "$AGENTDIR" ] || fail "-k removed ~/.ssh/agent"
ok "start-up cleans stale sockets as ssh-agent does; -k removes only its own socket"

export TMPDIR="$T/tmp"
mkdir "$TMPDIR"
eval "$("$AGENT" -T -s --config "$T/config.yaml")" > /dev/null
PIDS="$PIDS $SSH_AGENT_PID"
case $SSH_AUTH_SOCK in
"$TMPDIR"/p11guard-??????/agent.[0-9]*) ;;
*) fail "-T socket $SSH_AUTH_SOCK, want $TMPDIR/p11guard-XXXXXX/agent.PID" ;;
esac
[ "$(stat -c %a "$(dirname "$SSH_AUTH_SOCK")")" = 700 ] || fail "-T directory not 0700"
ssh-add -l | grep -q "ECDSA" || fail "the -T agent does not serve"
TDIR=$(dirname "$SSH_AUTH_SOCK")
"$AGENT" -k > /dev/null || fail "-k of the -T agent"
wait_for 5 test ! -e "$TDIR" || fail "-k left the -T directory behind"
ok "-T: a private 0700 directory under \$TMPDIR, removed at exit"

chmod 777 "$AGENTDIR"
"$AGENT" -s --config "$T/config.yaml" > "$T/open.out" 2> "$T/open.err" &&
	fail "the agent started in a directory others can write"
grep -q "agent is writable by others (mode 0777)" "$T/open.err" ||
	fail "no reason for the refusal: $(cat "$T/open.err")"
[ ! -s "$T/open.out" ] || fail "a refused start printed an environment"
chmod 700 "$AGENTDIR"
ok "~/.ssh/agent writable by others: refused with the reason and what to do"
