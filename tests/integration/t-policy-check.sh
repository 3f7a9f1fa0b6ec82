# p11guard policy check finds what would make a configuration fail on this machine, each at
# its FILE:LINE:COLUMN: a module that does not load, a token that is not present, PIN files
# that are missing or readable by others, a pinentry that cannot run, an audit file that
# cannot be written, a known_hosts file that does not exist. Errors make it exit 1.
. "$(dirname "$0")/lib.sh"

make_token t1 p256
printf '%s\n' "$PIN" > "$T/pin.ok"; chmod 600 "$T/pin.ok"
printf '%s\n' "$PIN" > "$T/pin.open"; chmod 644 "$T/pin.open"
: > "$T/in-the-way"
SOFTHSM=$(softhsm_module)
cat > "$T/config.yaml" <<CFG
tokens:
  - name: good
    module: $SOFTHSM
    uri: "pkcs11:token=t1"
    pin: file:$T/pin.ok
  - name: nomodule
    module: $T/no-such-module.so
  - name: absent
    module: $SOFTHSM
    uri: "pkcs11:token=not-plugged-in"
  - name: nopinfile
    module: $SOFTHSM
    uri: "pkcs11:token=t1"
    pin: file:$T/no-such-pin
  - name: openpin
    module: $SOFTHSM
    uri: "pkcs11:token=t1"
    pin: file:$T/pin.open
  - name: nopinentry
    module: $SOFTHSM
    uri: "pkcs11:token=t1"
    pin: pinentry:$T/no-such-pinentry
audit:
  file: $T/in-the-way/audit.log
policy:
  known_hosts: [ "$T/no-such-known-hosts" ]
  rules:
    - action: allow
  default: deny
CFG
at() {  # at TEXT [NTH]: LINE:COLUMN of TEXT's first (or NTH) value in the file
	awk -v t="$1" -v nth="${2:-1}" 'index($0, t) { if (++n == nth) {
		print NR ":" index($0, t); exit } }' "$T/config.yaml"
}
rc=0
"$CLI" policy check "$T/config.yaml" > "$T/out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "policy check of a config with errors exited $rc: $(cat "$T/out")"
expect() {      # expect KIND TEXT-IN-FILE MESSAGE-PART [NTH]
	line="$T/config.yaml:$(at "$2" "${4:-}"): $1: "
	grep -F "$line" "$T/out" | grep -qF "$3" || fail "no \"$line...$3\" in: $(cat "$T/out")"
}
expect error "$T/no-such-module.so" "token \"nomodule\": "
expect warning '"pkcs11:token=not-plugged-in"' "token \"absent\": no token present matches"
expect error "file:$T/no-such-pin" "PIN file $T/no-such-pin: No such file or directory"
expect error "file:$T/pin.open" "PIN file $T/pin.open is mode 0644: others can read it"
expect error "pinentry:$T/no-such-pinentry" "pinentry $T/no-such-pinentry cannot run"
expect error "$T/in-the-way/audit.log" "audit file $T/in-the-way/audit.log cannot be made"
expect warning "[ \"$T/no-such-known-hosts\" ]" "known_hosts file $T/no-such-known-hosts does not exist"
grep -q "token \"good\"" "$T/out" && fail "the good token was reported: $(cat "$T/out")"
grep -q "unusable here; .* 5 error(s), 2 warning(s)$" "$T/out" || fail "summary: $(tail -1 "$T/out")"
ok "policy check: each problem at its FILE:LINE:COLUMN, errors exit 1"

# The same file without its problems is valid.
cat > "$T/good.yaml" <<CFG
tokens:
  - name: good
    module: $SOFTHSM
    uri: "pkcs11:token=t1"
    pin: file:$T/pin.ok
audit:
  file: $T/state/audit.log
CFG
"$CLI" policy check "$T/good.yaml" > "$T/good.out" || fail "a good config: $(cat "$T/good.out")"
grep -q ": valid; .* 0 error(s), 0 warning(s)$" "$T/good.out" || fail "good: $(cat "$T/good.out")"
ok "a configuration without problems is valid, with nothing to report"

# Guarded rules: approvals that can write files, templates, and a rule without a server.
cat > "$T/guarded.yaml" <<CFG
policy:
  default: deny
  guarded:
    - action: allow
      to: "[127.0.0.1]:2222"
      exec: [ "git-receive-pack '/srv/*.git'", "scp -t /tmp", "rsync --server -e.LsfxC . /x" ]
      subsystems: [ sftp ]
    - action: allow
      exec: [ "rsync --server --sender -e.LsfxC . /x" ]
    - action: allow
      to: "[127.0.0.1]:2222"
      exec: [ "true" ]
      mode: handoff
    - action: allow
      to: "[127.0.0.1]:2222"
      exec: [ "false" ]
      mode: handoff
      forwarding: off-asserted
CFG
"$CLI" policy check "$T/guarded.yaml" > "$T/g.out" || fail "guarded check: $(cat "$T/g.out")"
for want in "git-receive-pack writes the repository" "scp -t writes files" \
	"rsync --server without --sender receives files" "is a template" \
	"guarded subsystem sftp gives full file access" "names no server (to:)" \
	"limited to a PermitOpen list" "off-asserted hands sessions off unprobed"; do
	grep -q "guarded.yaml:[0-9]*:7: warning: .*$want" "$T/g.out" ||
		fail "no warning \"$want\": $(cat "$T/g.out")"
done
! grep -q "rsync --server --sender.*receives" "$T/g.out" || fail "a sender rsync flagged as writing"
grep -q "4 guarded rule(s)" "$T/g.out" || fail "summary: $(tail -1 "$T/g.out")"
ok "guarded rules: writing approvals, templates, a rule without a server and the handoff's blind spots are warned about"

# policy explain answers guarded requests: the rule, or the default, and why.
cat > "$T/gx.yaml" <<CFG
policy:
  default: deny
  guarded:
    - action: allow
      to: "[127.0.0.1]:2222"
      users: git
      exec: [ "git-upload-pack '/srv/*.git'" ]
CFG
"$CLI" policy explain --config "$T/gx.yaml" --to 127.0.0.1 --port 2222 --user git \
	--exec "git-upload-pack '/srv/app.git'" > "$T/x.out" || fail "explain guarded"
grep -qx "decision: allow" "$T/x.out" && grep -qx "rule: $T/gx.yaml:4" "$T/x.out" &&
	grep -qx "server: \[127.0.0.1\]:2222" "$T/x.out" || fail "explain allow: $(cat "$T/x.out")"
"$CLI" policy explain --config "$T/gx.yaml" --to 127.0.0.1 --port 2222 --user git \
	--exec "git-upload-pack '/srv/x'; id; echo '.git'" > "$T/x.out" || fail "explain guarded"
grep -qx "decision: deny" "$T/x.out" && grep -q "^reason: no guarded rule allows .*default: deny" "$T/x.out" ||
	fail "explain injection: $(cat "$T/x.out")"
ok "policy explain: a guarded request's rule, and the injection attempt refused"
