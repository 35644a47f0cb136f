// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem-server-check: a host-only check of hdmabuf-ivshmem-server,
 * playing two QEMU clients.  Prints TAP.
 *
 *	ivshmem-server-check SERVER-BINARY TMPDIR
 *
 * Runs the server with peer "a" (id 1, with a presence word and a mailbox
 * to sign) and peer "b" (id 0x101), both on one memory file, and peer "c"
 * (id 3, no mailbox) on a file of its own full of a pattern, and checks
 * the messages each client gets on connect, that nobody hears of a client
 * leaving or coming back (QEMU 7.2 corrupts its heap when told a peer went
 * and then sent the same peer's eventfds again), that a client coming back
 * gets the same eventfds, so that a doorbell rung while it was away waits
 * for it, the presence word and its doorbell, that a second client of a
 * taken socket is refused, and a clean exit on SIGTERM; that the mailbox
 * is signed (version, magic "HDAC") and nothing else of the file written,
 * and that c's file is not touched at all; and that a bad mbox= is
 * refused.
 *
 * Then the transports (-t): -t virtio signs the same mailbox "HDAV" and
 * nothing else, keeps the presence word as before and leaves c's file
 * alone; -t mailbox and no -t sign "HDAC"; --transport is -t; an unknown
 * transport is refused (exit 2) and signs nothing.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHM_SIZE	0x100000
#define MBOX_OFF	(SHM_SIZE - 4096)
#define STATUS_OFF	(MBOX_OFF + 8)
#define MBOX_MAGIC	0x43414448u	/* "HDAC" */
#define VIRTIO_MAGIC	0x56414448u	/* "HDAV" */
#define MBOX_VERSION	1u

static int nr_test;
static int nr_failed;

static void result(int ok, const char *what)
{
	nr_test++;
	if (!ok)
		nr_failed++;
	printf("%sok %d %s\n", ok ? "" : "not ", nr_test, what);
	fflush(stdout);
}

/* recv_msg - one int64 (and maybe an fd) within 2 s; 0, or -1 on EOF/timeout */
static int recv_msg(int sock, int64_t *val, int *fd)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = val, .iov_len = sizeof(*val) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	struct cmsghdr *cmsg;

	*fd = -1;
	if (poll(&pfd, 1, 2000) != 1)
		return -1;
	if (recvmsg(sock, &msg, MSG_WAITALL) != sizeof(*val))
		return -1;
	*val = (int64_t)le64toh((uint64_t)*val);
	cmsg = CMSG_FIRSTHDR(&msg);
	if (cmsg && cmsg->cmsg_level == SOL_SOCKET &&
	    cmsg->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(cmsg), sizeof(int));
	return 0;
}

/* expect - the next message is @want, with an fd iff @with_fd */
static int expect(int sock, int64_t want, int with_fd, int *fd)
{
	int64_t val;
	int f;

	if (recv_msg(sock, &val, &f))
		return 0;
	if (fd)
		*fd = f;
	else if (f >= 0)
		close(f);
	return val == want && (f >= 0) == with_fd;
}

static int client(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
		perror(path);
		exit(1);
	}
	return s;
}

static uint32_t word_at(int shm, off_t off)
{
	uint32_t v = 0;

	if (pread(shm, &v, sizeof(v), off) != sizeof(v))
		return ~0u;
	return le32toh(v);
}

static uint32_t status_word(int shm)
{
	return word_at(shm, STATUS_OFF);
}

/*
 * status_becomes - the presence word is @want within 2 s (with nobody to
 * ring, nothing tells when the server has written it)
 */
static int status_becomes(int shm, uint32_t want)
{
	int i;

	for (i = 0; i < 100 && status_word(shm) != want; i++)
		usleep(20000);
	return status_word(shm) == want;
}

/* The byte of the foreign file's pattern at @off. */
static unsigned char pattern(off_t off)
{
	return (unsigned char)(off * 7 + (off >> 12));
}

/*
 * only_expected - @shm holds zeros but for the signature and the presence
 * word (@is_mbox: the mailbox's file), or else exactly the pattern
 */
static int only_expected(int shm, int is_mbox)
{
	static unsigned char buf[SHM_SIZE];
	off_t i;

	if (pread(shm, buf, SHM_SIZE, 0) != SHM_SIZE)
		return 0;
	for (i = 0; i < SHM_SIZE; i++) {
		if (!is_mbox && buf[i] != pattern(i))
			return 0;
		if (is_mbox && buf[i] &&
		    (i < MBOX_OFF || i >= STATUS_OFF + 4))
			return 0;
	}
	return 1;
}

/*
 * run_bad - the server given @opt (NULL: none) and @peer exits with @want
 * without listening
 */
static int run_bad(const char *server, const char *opt, const char *peer,
		   int want)
{
	int st;
	pid_t pid = fork();

	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 2);
		if (opt)
			execl(server, server, opt, "--peer", peer,
			      (char *)NULL);
		else
			execl(server, server, "--peer", peer, (char *)NULL);
		_exit(127);
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	       WEXITSTATUS(st) == want;
}

/* argv_of - @server, then the arguments of @ap up to NULL, into @av[16] */
static void argv_of(const char **av, const char *server, va_list ap)
{
	int i = 0;

	av[i++] = server;
	while (i < 15 && (av[i] = va_arg(ap, const char *)))
		i++;
	av[i] = NULL;
}

/*
 * serve - start @server with the arguments that follow @sock, up to NULL;
 * its pid once @sock exists (the mailbox is signed by then), else -1
 */
static pid_t serve(const char *server, const char *sock, ...)
{
	const char *av[16];
	va_list ap;
	pid_t pid;
	int i;

	va_start(ap, sock);
	argv_of(av, server, ap);
	va_end(ap);
	pid = fork();
	if (!pid) {
		execv(server, (char *const *)av);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	for (i = 0; i < 100 && access(sock, F_OK); i++)
		usleep(20000);
	if (access(sock, F_OK)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

/* stop - SIGTERM to @pid: it exits 0 */
static int stop(pid_t pid)
{
	int st;

	if (pid < 0)
		return 0;
	kill(pid, SIGTERM);
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	       !WEXITSTATUS(st);
}

/* signed_as - the mailbox of @shm holds @magic and the layout version */
static int signed_as(int shm, uint32_t magic)
{
	return word_at(shm, MBOX_OFF) == magic &&
	       word_at(shm, MBOX_OFF + 4) == MBOX_VERSION;
}

/* blank - @shm all zeros again, as a new memory file */
static int blank(int shm)
{
	return !ftruncate(shm, 0) && !ftruncate(shm, SHM_SIZE);
}

/*
 * run_args - @server given the arguments after @want, up to NULL, exits
 * with @want without listening
 */
static int run_args(const char *server, int want, ...)
{
	const char *av[16];
	va_list ap;
	pid_t pid;
	int st;

	va_start(ap, want);
	argv_of(av, server, ap);
	va_end(ap);
	pid = fork();
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 2);
		execv(server, (char *const *)av);
		_exit(127);
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	       WEXITSTATUS(st) == want;
}

/* rung - @efd was written to within 2 s */
/* silent - nothing arrives on @sock within 300 ms */
static int silent(int sock)
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };

	return poll(&pfd, 1, 300) == 0;
}

static int rung(int efd)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint64_t v;

	return poll(&pfd, 1, 2000) == 1 && read(efd, &v, sizeof(v)) == 8;
}

int main(int argc, char **argv)
{
	char sa[200], sb[200], sc[200], shm_path[200], other_path[200];
	char peer_a[640], peer_b[640], peer_c[640], bad[640];
	static unsigned char fill[SHM_SIZE];
	int shm, other, a, b, a2, fd, efd_a = -1, efd_b = -1, efd_a2 = -1, st, i;
	const uint64_t one = 1;
	struct stat stbuf;
	int64_t val;
	pid_t pid;

	if (argc != 3) {
		fprintf(stderr, "usage: ivshmem-server-check SERVER TMPDIR\n");
		return 2;
	}
	snprintf(sa, sizeof(sa), "%s/a.sock", argv[2]);
	snprintf(sb, sizeof(sb), "%s/b.sock", argv[2]);
	snprintf(sc, sizeof(sc), "%s/c.sock", argv[2]);
	snprintf(shm_path, sizeof(shm_path), "%s/shm", argv[2]);
	snprintf(other_path, sizeof(other_path), "%s/other", argv[2]);
	shm = open(shm_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (shm < 0 || ftruncate(shm, SHM_SIZE)) {
		perror(shm_path);
		return 1;
	}
	/* Someone else's shared memory: a pattern that must stay. */
	for (i = 0; i < SHM_SIZE; i++)
		fill[i] = pattern(i);
	other = open(other_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (other < 0 || pwrite(other, fill, SHM_SIZE, 0) != SHM_SIZE) {
		perror(other_path);
		return 1;
	}
	snprintf(peer_a, sizeof(peer_a), "%s,id=1,shm=%s,status=%d,mbox=%d",
		 sa, shm_path, STATUS_OFF, MBOX_OFF);
	snprintf(peer_b, sizeof(peer_b), "%s,id=0x101,shm=%s", sb, shm_path);
	snprintf(peer_c, sizeof(peer_c), "%s,id=3,shm=%s", sc, other_path);
	printf("TAP version 13\n");

	snprintf(bad, sizeof(bad), "%s,id=1,shm=%s,mbox=%d", sa, shm_path,
		 MBOX_OFF + 4);
	result(run_bad(argv[1], NULL, bad, 2), "mbox= not page aligned: exit 2");
	snprintf(bad, sizeof(bad), "%s,id=1,shm=%s,mbox=%d", sa, shm_path,
		 SHM_SIZE);
	result(run_bad(argv[1], NULL, bad, 1), "mbox= past the end: exit 1");
	result(only_expected(shm, 1) && !word_at(shm, MBOX_OFF),
	       "a refused mbox= signed nothing");

	pid = fork();
	if (!pid) {
		execl(argv[1], argv[1], "-v", "1", "--peer", peer_a,
		      "--peer", peer_b, "--peer", peer_c, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100 && (access(sa, F_OK) || access(sb, F_OK) ||
				access(sc, F_OK)); i++)
		usleep(20000);
	result(!access(sa, F_OK) && !access(sb, F_OK) && !access(sc, F_OK),
	       "server listens");
	result(word_at(shm, MBOX_OFF) == MBOX_MAGIC &&
	       word_at(shm, MBOX_OFF + 4) == MBOX_VERSION,
	       "mbox=: the mailbox is signed before any client comes");

	/* b first: it is alone. */
	b = client(sb);
	result(expect(b, 0, 0, NULL), "b: protocol version 0");
	result(expect(b, 0x101, 0, NULL), "b: its own id");
	result(expect(b, -1, 1, &fd) && !fstat(fd, &stbuf) &&
	       stbuf.st_size == SHM_SIZE, "b: -1 with the memory fd");
	result(expect(b, 0x101, 1, &efd_b), "b: its own eventfd");

	/* a joins: it gets b's eventfd, then its own; b gets a's. */
	a = client(sa);
	result(expect(a, 0, 0, NULL) && expect(a, 1, 0, NULL) &&
	       expect(a, -1, 1, NULL), "a: version, id 1, memory fd");
	result(expect(a, 0x101, 1, NULL), "a: b's eventfd");
	result(expect(a, 1, 1, NULL), "a: its own eventfd");
	result(expect(b, 1, 1, &efd_a), "b: a's eventfd");
	/* The server rings after it has changed the word. */
	result(rung(efd_b), "b is rung for a's arrival");
	result(status_word(shm) == 1, "a's presence word is 1 (odd: there)");

	/* A second client for a's socket is refused. */
	a2 = client(sa);
	result(recv_msg(a2, &val, &fd) == -1, "a second client of a is refused");
	close(a2);
	result(status_word(shm) == 1, "the refused client did not count");

	/* a leaves: b hears nothing, but is rung and the word says so. */
	close(a);
	result(rung(efd_b), "b is rung for a's departure");
	result(silent(b), "b is told nothing of a's departure");
	result(status_word(shm) == 2, "a's presence word is 2 (even: gone)");
	/* b rings a while a is away. */
	result(efd_a >= 0 && write(efd_a, &one, sizeof(one)) == sizeof(one),
	       "b rings a while a is away");

	/* a comes back as a new client, with the eventfds it had. */
	a = client(sa);
	result(expect(a, 0, 0, NULL) && expect(a, 1, 0, NULL) &&
	       expect(a, -1, 1, NULL) && expect(a, 0x101, 1, NULL) &&
	       expect(a, 1, 1, &efd_a2), "a reconnects");
	result(efd_a2 >= 0 && rung(efd_a2),
	       "a's eventfd is the one it had: the ring sent while away waits");
	result(rung(efd_b) && status_word(shm) == 3, "b is rung, the word is 3");
	result(silent(b), "b is told nothing of a's return (it has a's eventfd)");
	result(efd_a >= 0 && write(efd_a, &one, sizeof(one)) == sizeof(one) &&
	       rung(efd_a2), "b's eventfd for a still rings a");

	kill(pid, SIGTERM);
	result(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	       !WEXITSTATUS(st), "SIGTERM: the server exits 0");
	result(access(sa, F_OK) && access(sb, F_OK) && access(sc, F_OK),
	       "SIGTERM: the sockets are gone");
	result(only_expected(shm, 1),
	       "the server wrote only the signature and the presence word");
	result(only_expected(other, 0),
	       "c's memory, with no mbox=, is not touched at all");
	close(a);
	close(b);

	/* The transports: -t picks the magic, and nothing else changes. */
	result(blank(shm) &&
	       run_args(argv[1], 2, "-t", "bogus", "--peer", peer_a, NULL) &&
	       run_args(argv[1], 2, "--peer", peer_a, "--transport", "bogus",
			NULL) &&
	       only_expected(shm, 1) && !word_at(shm, MBOX_OFF),
	       "-t bogus: exit 2, before or after --peer, nothing signed");

	pid = serve(argv[1], sa, "-v", "1", "-t", "virtio", "--peer", peer_a,
		    "--peer", peer_c, NULL);
	result(pid > 0 && signed_as(shm, VIRTIO_MAGIC),
	       "-t virtio: the mailbox is signed \"HDAV\", version 1, before any client comes");
	a = client(sa);
	result(expect(a, 0, 0, NULL) && expect(a, 1, 0, NULL) &&
	       expect(a, -1, 1, NULL) && expect(a, 1, 1, NULL),
	       "-t virtio: a gets version, id 1, memory fd, its eventfd");
	result(status_becomes(shm, 1),
	       "-t virtio: a's presence word is 1 (odd: there)");
	close(a);
	result(status_becomes(shm, 2),
	       "-t virtio: a's presence word is 2 once a leaves");
	result(stop(pid), "-t virtio: SIGTERM: the server exits 0");
	result(signed_as(shm, VIRTIO_MAGIC) && only_expected(shm, 1),
	       "-t virtio: the server wrote only the signature and the presence word");
	result(only_expected(other, 0),
	       "-t virtio: c's memory, with no mbox=, is not touched at all");

	pid = blank(shm) ? serve(argv[1], sa, "-t", "mailbox", "--peer", peer_a,
				 NULL) : -1;
	result(pid > 0 && signed_as(shm, MBOX_MAGIC),
	       "-t mailbox: the mailbox is signed \"HDAC\", version 1");
	result(stop(pid) && only_expected(shm, 1),
	       "-t mailbox: nothing else written, exit 0");

	pid = blank(shm) ? serve(argv[1], sa, "--transport", "virtio",
				 "--peer", peer_a, NULL) : -1;
	result(pid > 0 && signed_as(shm, VIRTIO_MAGIC),
	       "--transport virtio: signed \"HDAV\"");
	result(stop(pid), "--transport virtio: exit 0");

	pid = blank(shm) ? serve(argv[1], sa, "--peer", peer_a, "-t", "virtio",
				 NULL) : -1;
	result(pid > 0 && signed_as(shm, VIRTIO_MAGIC),
	       "-t virtio after --peer: signed \"HDAV\" all the same");
	result(stop(pid), "-t virtio after --peer: exit 0");

	close(other);
	unlink(shm_path);
	unlink(other_path);
	printf("1..%d\n", nr_test);
	return nr_failed ? 1 : 0;
}
