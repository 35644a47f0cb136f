// SPDX-License-Identifier: GPL-2.0
/*
 * rig-exit: end a QEMU test VM with a verdict.
 *
 * Writes the status to QEMU's isa-debug-exit port (0xf4), which makes QEMU
 * exit with (status << 1) | 1: 1 means the guest passed, 3 that it failed.
 * It first waits, up to 5 s, until the TAP port (/dev/ttyS1) has sent all
 * that was written to it: QEMU exits at once, and the last lines still in
 * the UART's buffer, the rig's "# rig: done" among them, would be lost.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <termios.h>
#include <unistd.h>

#define RIG_TAP_PORT	"/dev/ttyS1"
#define RIG_DRAIN_S	5

static void rig_alarm(int sig)
{
}

/* Wait until @tty has sent its output, for RIG_DRAIN_S seconds at most. */
static void rig_drain(const char *tty)
{
	struct sigaction sa;
	int fd;

	fd = open(tty, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	/* No SA_RESTART: the alarm interrupts tcdrain(). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = rig_alarm;
	sigaction(SIGALRM, &sa, NULL);
	alarm(RIG_DRAIN_S);
	tcdrain(fd);
	alarm(0);
	close(fd);
}

int main(int argc, char **argv)
{
	unsigned int status = argc > 1 ? strtoul(argv[1], NULL, 0) : 1;

	sync();
	rig_drain(RIG_TAP_PORT);
	if (ioperm(0xf4, 4, 1)) {
		perror("rig-exit: ioperm");
		return 1;
	}
	outl(status ? 1 : 0, 0xf4);
	/* Not reached when the isa-debug-exit device is present. */
	fprintf(stderr, "rig-exit: no isa-debug-exit device\n");
	return 1;
}
