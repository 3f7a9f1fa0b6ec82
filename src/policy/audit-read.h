/*
 * Reading the audit trail back (`p11guard audit`): one JSON object per line, as audit.c
 * writes it. The reader takes any well-formed object, keeps the fields it knows (values cut
 * to their buffers), skips the others, and refuses anything that is not JSON. It reads
 * through a bounded cursor and never past the line.
 */
#ifndef P11G_AUDIT_READ_H
#define P11G_AUDIT_READ_H

#include <stddef.h>
#include <time.h>

#include "err.h"

struct audit_entry {
	char time[40];          /* as written: 2026-11-29T19:30:01.123Z */
	time_t when;            /* parsed from it; 0 when it does not parse */
	char event[16], decision[16];
	char rule[320], reason[512];
	long pid, uid;
	char exe[256];
	char key[64], key_comment[256], key_source[128];
	char dest_host_key[64], dest_name[256], user[128];
	size_t nhops;
};

int audit_entry_parse(const char *line, size_t len, struct audit_entry *e)
	__attribute__((warn_unused_result));

#endif
