# The layer order is enforced by the build: each layer of src/ is compiled with the include
# paths of the layers it may use only, so a wrong-way #include does not compile. Each case
# compiles a scratch copy of a real source file with the exact command make uses for it.
. "$(dirname "$0")/lib.sh"

srcdir=$(sed -n 's/^srcdir = //p' "$top_builddir/Makefile")
# compile_as OBJECT SOURCE-IN-TREE EXTRA-INCLUDE: a copy of the source with one more
# #include, compiled as make compiles OBJECT; the compiler's output is in $T/cc.out.
compile_as() {
	cmd=$(cd "$top_builddir" && make -s -n -W "$srcdir/$2" "$1" | grep -- " -c -o " | head -n 1)
	[ -n "$cmd" ] || fail "make printed no compile command for $1"
	# The compiler and its flags: no echo, no libtool wrapper, no dependency output.
	cc_flags=$(printf '%s\n' "$cmd" | sed 's/^.*;//; s/^.*--mode=compile //; s/ -MT .*//')
	{ [ -z "$3" ] || echo "#include \"$3\""; cat "$top_srcdir/$2"; } > "$T/$(basename "$2")"
	# shellcheck disable=SC2086
	(cd "$top_builddir" && $cc_flags -c -o "$T/scratch.o" "$T/$(basename "$2")") \
		> "$T/cc.out" 2>&1
}
refused() {     # refused OBJECT SOURCE HEADER: including HEADER there must not compile
	compile_as "$1" "$2" "$3" && fail "$2 compiled with #include \"$3\""
	grep -q "$3: No such file" "$T/cc.out" || fail "$2: not refused for $3: $(cat "$T/cc.out")"
}

compile_as pkcs11/libpkcs11_a-p11-errors.o pkcs11/p11-errors.c "" ||
	fail "the unchanged copy does not compile: $(cat "$T/cc.out")"
compile_as src/keystore/libkeystore_a-keystore.o src/keystore/keystore.c policy.h ||
	fail "keystore may use the policy layer: $(cat "$T/cc.out")"
ok "controls: an unchanged copy compiles, and so does a right-way include"

refused pkcs11/libpkcs11_a-p11-errors.o pkcs11/p11-errors.c policy.h
refused pkcs11/libpkcs11_a-p11-errors.o pkcs11/p11-errors.c wire.h
refused src/sshwire/libsshwire_la-wire.lo src/sshwire/wire.c agent-proto.h
refused src/sshwire/libsshwire_la-sshpub.lo src/sshwire/sshpub.c p11.h
refused src/sshagent/libsshagentcore_la-agent-proto.lo src/sshagent/agent-proto.c p11.h
refused src/sshagent/libsshagentcore_la-agent-proto.lo src/sshagent/agent-proto.c policy.h
refused src/policy/libpolicy_a-policy.o src/policy/policy.c confirm.h
refused src/ui/libui_a-prompt.o src/ui/prompt.c policy.h
refused src/keystore/libkeystore_a-keystore.o src/keystore/keystore.c config.h
refused src/config/libconfig_a-config.o src/config/config.c agent.h
refused src/ssh/libssh_a-ssh-kex.o src/ssh/ssh-kex.c agent-proto.h
refused src/ssh/libssh_a-ssh-kex.o src/ssh/ssh-kex.c p11.h
# The delegate runs on intermediaries: no tokens, no policy, no agent state.
refused src/delegate/libdelegate_a-delegate.o src/delegate/delegate.c p11.h
refused src/delegate/libdelegate_a-delegate.o src/delegate/delegate.c policy.h
refused src/delegate/libdelegate_a-delegate.o src/delegate/delegate.c agent.h
ok "wrong-way includes fail: token->policy, token->sshwire, sshwire->sshagent, sshwire->token, sshagent->token, sshagent->policy, policy->ui, ui->policy, keystore->config, config->agent, ssh->sshagent, ssh->token, delegate->token, delegate->policy, delegate->agent"

# A path in an #include would walk around the include paths.
if grep -rn '^#include "[^"]*/' "$top_srcdir/src" "$top_srcdir/pkcs11"; then
	fail "an #include names a path"
fi
ok "no #include in src/ or pkcs11/ names a path"
