// SPDX-License-Identifier: GPL-2.0
/*
 * rig-as: run a command as another user, for the rigs' non-root checks.
 *
 *	rig-as UID GID[,GID...] COMMAND [ARG...]
 *
 * Drops every privilege: the groups are exactly the ones given (the first
 * is the primary one), then the user.  Exits 127 when the command cannot
 * run, 126 when the identity cannot be taken.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_GROUPS	16

int main(int argc, char **argv)
{
	gid_t groups[MAX_GROUPS];
	char *list, *tok, *end;
	int n = 0;
	uid_t uid;

	if (argc < 4) {
		fprintf(stderr, "usage: rig-as UID GID[,GID...] COMMAND [ARG...]\n");
		return 2;
	}
	uid = strtoul(argv[1], &end, 10);
	if (*end) {
		fprintf(stderr, "rig-as: bad uid %s\n", argv[1]);
		return 2;
	}
	list = argv[2];
	for (tok = strtok(list, ","); tok && n < MAX_GROUPS;
	     tok = strtok(NULL, ",")) {
		groups[n++] = strtoul(tok, &end, 10);
		if (*end) {
			fprintf(stderr, "rig-as: bad gid %s\n", tok);
			return 2;
		}
	}
	if (!n || setgroups(n, groups) || setgid(groups[0]) || setuid(uid)) {
		fprintf(stderr, "rig-as: %s\n", strerror(errno ? errno : EINVAL));
		return 126;
	}
	execvp(argv[3], argv + 3);
	fprintf(stderr, "rig-as: %s: %s\n", argv[3], strerror(errno));
	return 127;
}
