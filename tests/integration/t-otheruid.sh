# A connection from another uid is refused, even when the socket is reachable.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to connect as another uid"; exit 77; }
command -v setpriv >/dev/null || { echo "SKIP: setpriv missing"; exit 77; }

make_token t1 p256
make_askpass "$PIN"
write_config "$T/config.yaml" t1
start_agent --config "$T/config.yaml"
[ "$(stat -c %a "$SSH_AUTH_SOCK")" = 600 ] || fail "socket mode $(stat -c %a "$SSH_AUTH_SOCK"), want 600"
ok "socket is 0600"

# Open the path on purpose so that only the agent's own check stands in the way.
chmod 777 "$T" "$SSH_AUTH_SOCK"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups env SSH_AUTH_SOCK="$SSH_AUTH_SOCK" \
	ssh-add -l 2>&1) && fail "uid 65534 listed keys: $out"
grep -q "refused connection from uid 65534" "$T/agent.log" || fail "refusal not logged"
ssh-add -l | grep -q SHA256 || fail "the owner was not served after the refusal"
ok "uid 65534 is refused and logged; the owner is still served"

# A private directory made by the agent is 0700 (-T: t-agent-flags covers ~/.ssh/agent).
unset SSH_AUTH_SOCK
eval "$("$AGENT" -T -s --config "$T/config.yaml")" > /dev/null
PIDS="$PIDS $SSH_AGENT_PID"
[ "$(stat -c %a "$(dirname "$SSH_AUTH_SOCK")")" = 700 ] || fail "socket directory not 0700"
case $SSH_AUTH_SOCK in *XXX*) fail "mkdtemp template left literal X's: $SSH_AUTH_SOCK" ;; esac
[ "$(stat -c %a "$SSH_AUTH_SOCK")" = 600 ] || fail "daemon socket not 0600"
ssh-add -l | grep -q SHA256 || fail "daemonized agent does not serve"
"$AGENT" -k > /dev/null || fail "p11guard-agent -k"
wait_for 5 sh -c "! kill -0 $SSH_AGENT_PID" || fail "-k did not stop the agent"
[ ! -e "$SSH_AUTH_SOCK" ] || fail "socket left behind"
ok "daemon mode: 0700 directory, 0600 socket, -k stops it and cleans up"
