# Guarded execution's test bench, after lib.sh: the user's agent with a token key, an
# intermediary sshd I (i.test in the policy) and a target sshd T, the user's ssh -A to I.
# The tests then run p11guard-ssh (or the malicious delegate) there with from_i.

# guarded_setup EXEC-LIST: the agent with a policy that allows signing to I and, through I
# only, the EXEC-LIST commands (YAML flow list) as root on T. T takes SSHD_* from the caller.
guarded_setup() {
	make_token t1 ed25519
	make_askpass "$PIN"
	chmod 755 "$T"
	SSHD_HOSTKEY_ARGS="" SSHD_EXTRA="" start_sshd I
	start_sshd T
	{ known_hosts_line I i.test
	  echo "[127.0.0.1]:$T_PORT $(cut -d' ' -f1,2 "$T/sshd-T/hostkey.pub")"; } \
		> "$T/policy_known_hosts"
	write_config "$T/config.yaml" t1
	cat >> "$T/config.yaml" <<CFG
audit:
  file: "$T/audit.log"
policy:
  known_hosts: [ "$T/policy_known_hosts" ]
  default: deny
  rules:
    - action: allow                     # logging in to the intermediary, from here
      to: i.test
  guarded:
    - action: allow                     # and, from there, these commands on T only
      to: "[127.0.0.1]:$T_PORT"
      users: root
      via: i.test
      exec: $1
CFG
	start_agent --config "$T/config.yaml"
	pubkeys_from_tokens "$T/config.yaml"
	cat "$T/pub/ed25519.pub" >> "$T/I.keys"
	cat "$T/pub/ed25519.pub" >> "$T/T.keys"
	"$CLI" policy check "$T/config.yaml" > "$T/check.out" ||
		fail "policy check: $(cat "$T/check.out")"
}

# from_i COMMAND: COMMAND runs on the intermediary, with the user's agent forwarded there.
from_i() { ssh_run "$I_PORT" "$T/pub/ed25519.pub" -A root@127.0.0.1 "$1"; }
# How many connections T has seen, and how many sessions it started.
t_connections() { grep -c "^Connection from" "$T/sshd-T.log" || true; }
t_sessions() { grep -c "Starting session" "$T/sshd-T.log" || true; }
