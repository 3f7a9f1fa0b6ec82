# p11guard-agent CMD runs CMD with SSH_AUTH_SOCK set and exits with it; bad configs are refused.
. "$(dirname "$0")/lib.sh"

make_token t1 ed25519
make_askpass "$PIN"
write_config "$T/config.yaml" t1
export HOME="$T/home"   # the default socket goes to ~/.ssh/agent: not the real home
mkdir -m 700 "$HOME"
out=$("$AGENT" --config "$T/config.yaml" sh -c 'ssh-add -l; echo "sock=$SSH_AUTH_SOCK"') ||
	fail "command mode"
echo "$out" | grep -q "ED25519" || fail "command did not see the keys: $out"
sock=$(echo "$out" | sed -n 's/^sock=//p')
wait_for 5 test ! -e "$sock" || fail "agent outlived its command"
ok "command mode serves the command and exits after it"

printf 'tokens:\n  - module: x\n    colour: red\n' > "$T/bad.yaml"
"$AGENT" -d -a "$T/x.sock" --config "$T/bad.yaml" > "$T/bad.out" 2>&1 &&
	fail "agent started with a malformed config"
grep -q "bad.yaml:3:5: unknown key \"colour\"" "$T/bad.out" || fail "no precise error: $(cat "$T/bad.out")"
[ ! -e "$T/x.sock" ] || fail "socket created for a refused config"
ok "a malformed config is refused with file:line:column"
