# README.md's "Using it", run as written in a scratch HOME against the installed tree, up to
# an ssh login on a loopback sshd. Only what a test machine must change is changed: the
# packages are there and the tree is built (those two lines are skipped), `sudo make -C build
# install` installs this build into a DESTDIR put first on PATH, the token is a SoftHSM one instead of a card,
# the authorized keys go to the test sshd, and user@host is that sshd.
. "$(dirname "$0")/lib.sh"

README=$top_srcdir/README.md
sed -n '/<!-- using-it: tests/,/<!-- using-it: end -->/p' "$README" | sed '1d;$d' |
	sed 's/^    //' > "$T/block.sh"
[ "$(wc -l < "$T/block.sh")" -ge 10 ] || fail "the README's \"Using it\" block was not found"
for line in "sudo make -C build install" 'eval "$(p11guard-agent)"' "ssh-add -L" "ssh user@host" \
	"p11guard policy check" "cat > ~/.config/p11guard/config.yaml"; do
	grep -qF "$line" "$T/block.sh" || fail "the README's block no longer has: $line"
done

make_token mycard ed25519 p256
make_askpass "$PIN"
start_sshd A
export HOME="$T/home"
mkdir -m 700 "$HOME" "$HOME/.ssh"
# ssh reads the passwd entry's home, not \$HOME: the walk names this file with -F.
cat > "$HOME/.ssh/config" <<CFG
Host host
	HostName 127.0.0.1
	Port $A_PORT
	UserKnownHostsFile $T/known_hosts
	BatchMode yes
CFG
INST=$T/inst
export PATH="$INST/usr/local/bin:$PATH"
unset SSH_AUTH_SOCK SSH_AGENT_PID XDG_CONFIG_HOME

sed -e '/^\.\/scripts\/install-deps/d' -e '/^autoreconf /d' \
	-e "s|^sudo make -C build install\\b|make -s -C '$top_builddir' install DESTDIR='$INST' >/dev/null|" \
	-e "s|opensc-pkcs11|$(softhsm_module)|g" -e 's|token=PIV_II|token=mycard|' \
	-e "s|^ssh-add -L\\b|ssh-add -L >> '$T/A.keys'|" -e "s|^ssh user@host\\b|ssh -F '$HOME/.ssh/config' root@host true|" \
	"$T/block.sh" > "$T/walk.sh"
( set -eu; cd "$T"; . "$T/walk.sh"; echo "walk: ssh exit 0"; "$INST/usr/local/bin/p11guard-agent" -k ) \
	> "$T/walk.log" 2>&1 || fail "the README's \"Using it\" failed: $(cat "$T/walk.log")"
grep -q "walk: ssh exit 0" "$T/walk.log" || fail "no login: $(cat "$T/walk.log")"
[ -x "$INST/usr/local/bin/p11guard-agent" ] || fail "make install did not install the agent"
grep -q "mycard" "$T/walk.log" || fail "p11guard tokens did not show the token"
[ "$(grep -c . "$T/A.keys")" -ge 2 ] || fail "ssh-add -L gave no keys"
grep -q "Accepted publickey for root" "$T/sshd-A.log" || fail "sshd saw no login"
ok "README's \"Using it\", as written: install, first config, agent, ssh login"
