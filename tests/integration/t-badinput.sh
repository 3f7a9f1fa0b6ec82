# Malformed, truncated, oversized and stalled clients never disturb a client that is signing.
. "$(dirname "$0")/lib.sh"

make_token t1 p256
make_askpass "$PIN"
write_config "$T/config.yaml" t1
start_agent --config "$T/config.yaml"
"$top_builddir/tests/integration/agent-torture" || fail "agent-torture"
kill -0 "$AGENT_PID" || fail "agent died"
ssh-add -l | grep -q SHA256 || fail "agent no longer serves"
ok "agent survived every malformed client and kept serving"
