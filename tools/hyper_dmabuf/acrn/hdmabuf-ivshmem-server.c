// SPDX-License-Identifier: GPL-2.0
/*
 * hdmabuf-ivshmem-server: an ivshmem-doorbell server for the ACRN-model
 * rig, speaking the protocol of QEMU's docs/specs/ivshmem-spec.rst.
 *
 *   hdmabuf-ivshmem-server [-v VECTORS] [-p PIDFILE] [-t mailbox|virtio]
 *	--peer SOCKET,id=N,shm=FILE[,status=OFFSET][,mbox=OFFSET] [--peer ...]
 *
 * Unlike QEMU's own server, every peer has a listening socket of its own,
 * a fixed peer id and its own memory file: the host, not the order of
 * connection, decides who is who.  One client per socket at a time; a
 * second one is refused (closed at once).
 *
 * Every message is a little-endian int64, some with one fd (SCM_RIGHTS).
 * A newcomer gets: the protocol version (0), its own id, -1 with its
 * memory fd, then for every other peer that ever connected that peer's id
 * once per vector, each with one of its eventfds, then its own id once per
 * vector with its own eventfds.  On a peer's first connection every other
 * connected peer gets its id with each of its eventfds.
 *
 * A peer's eventfds are made on its first connection and kept for the
 * server's life: a client that comes back under the same id (its VM
 * restarted) gets the same ones, and nobody hears that it went or came
 * back.  QEMU's ivshmem (7.2, hw/misc/ivshmem.c) frees a peer's eventfd
 * array when told the peer went (close_peer_eventfds()) but keeps the
 * pointer, and writes the next eventfd it is sent for that peer into the
 * freed array: announcing a departure and then the same id again corrupts
 * the surviving VM's QEMU.  Departures are told through the presence word
 * (status=) instead, which is what the driver reads.  A doorbell rung for
 * a peer while it is away waits in its eventfd for its next client.
 *
 * status=OFFSET keeps a little-endian u32 presence counter at OFFSET in
 * that peer's memory file: it is incremented when the peer connects (odd
 * while it is there) and when it goes (even), and after each change the
 * server rings vector 0 of every other connected peer.  That is how a
 * service VM learns that a user VM died.
 *
 * mbox=OFFSET says that the file holds a hyper_dmabuf ACRN link's mailbox
 * at OFFSET (page aligned): the server signs it when it starts, before any
 * VM does, writing the layout version and then the magic into the first
 * two little-endian u32 words of its header
 * (drivers/dma-buf/hyper_dmabuf/backends/acrn/acrn.h) and nothing else.
 * The driver binds only ivshmem devices whose memory is signed, so that
 * the shared memory of any other ivshmem user is never written.
 *
 * The magic names the link's transport, the same for every mbox= of one
 * server: -t mailbox (--transport; the default) signs "HDAC" (0x43414448),
 * the mailbox's own rings; -t virtio signs "HDAV" (0x56414448), a virtio
 * device over the link (backends/acrn/virtio_ivshmem.h).  The layout
 * version is 1 for both, and the header's third word, where the rig puts
 * status=, is the presence word in both.  A file without mbox= is never
 * signed, whatever -t says.
 *
 * Runs in the foreground until SIGTERM or SIGINT.  Errors go to stderr.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_PEERS	16
#define MAX_VECTORS	64

/* The mailbox signatures, as acrn.h and virtio_ivshmem.h define them. */
#define MBOX_MAGIC	0x43414448u	/* "HDAC": the mailbox transport */
#define VIRTIO_MAGIC	0x56414448u	/* "HDAV": virtio over the link */
#define MBOX_VERSION	1u

/**
 * struct peer - one --peer: a socket, its fixed id and memory
 * @path: the listening socket's path
 * @id: the peer id its client gets
 * @shm: the memory file's fd, sent to the client
 * @listen: the listening socket
 * @conn: the connected client, -1 when none
 * @efd: the peer's eventfds, one per vector, made on its first connection
 * @known: @efd is made and was announced: the peer connected once
 * @status: the presence counter in the memory file, NULL without status=
 * @map: the mapping holding @status
 * @map_len: its length
 * @shm_path: the memory file's path, for messages
 * @mbox: the mailbox's offset in it, -1 without mbox=
 */
struct peer {
	const char *path;
	long id;
	int shm;
	int listen;
	int conn;
	int efd[MAX_VECTORS];
	bool known;
	uint32_t *status;
	void *map;
	size_t map_len;
	const char *shm_path;
	long mbox;
};

static struct peer peers[MAX_PEERS];
static int nr_peers;
static int nr_vectors = 1;
/* The magic sign_mbox() writes: -t mailbox or -t virtio. */
static uint32_t mbox_magic = MBOX_MAGIC;

static void die_usage(void)
{
	fprintf(stderr,
		"usage: hdmabuf-ivshmem-server [-v VECTORS] [-p PIDFILE]\n"
		"\t[-t mailbox|virtio]\n"
		"\t--peer SOCKET,id=N,shm=FILE[,status=OFFSET][,mbox=OFFSET]\n"
		"\t[--peer ...]\n"
		"-t, --transport: the magic mbox= signs, \"HDAC\" (mailbox, the\n"
		"\tdefault) or \"HDAV\" (virtio)\n");
	exit(2);
}

/* send_msg - one little-endian int64 to @sock, with @fd unless it is -1 */
static int send_msg(int sock, int64_t val, int fd)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	int64_t le = (int64_t)htole64((uint64_t)val);
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	ssize_t n;

	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n != sizeof(le)) {
		fprintf(stderr, "hdmabuf-ivshmem-server: send: %s\n",
			n < 0 ? strerror(errno) : "short write");
		return -1;
	}
	return 0;
}

/* announce - tell @to every eventfd of @p */
static void announce(struct peer *to, struct peer *p)
{
	int v;

	for (v = 0; v < nr_vectors; v++)
		send_msg(to->conn, p->id, p->efd[v]);
}

/* presence - bump @p's presence counter and ring the other peers */
static void presence(struct peer *p)
{
	const uint64_t one = 1;
	uint32_t val;
	int i;

	if (!p->status)
		return;
	val = le32toh(__atomic_load_n(p->status, __ATOMIC_SEQ_CST)) + 1;
	__atomic_store_n(p->status, htole32(val), __ATOMIC_SEQ_CST);
	for (i = 0; i < nr_peers; i++) {
		if (&peers[i] == p || peers[i].conn < 0)
			continue;
		if (write(peers[i].efd[0], &one, sizeof(one)) != sizeof(one))
			fprintf(stderr, "hdmabuf-ivshmem-server: ring %ld: %s\n",
				peers[i].id, strerror(errno));
	}
}

/* drop - @p's client went: only its presence word tells (see the top) */
static void drop(struct peer *p)
{
	close(p->conn);
	p->conn = -1;
	presence(p);
}

/* make_efds - @p's eventfds, once: 0, or -1 with none made */
static int make_efds(struct peer *p)
{
	int v;

	for (v = 0; v < nr_vectors; v++) {
		p->efd[v] = eventfd(0, EFD_CLOEXEC);
		if (p->efd[v] < 0) {
			fprintf(stderr, "hdmabuf-ivshmem-server: eventfd: %s\n",
				strerror(errno));
			while (v--)
				close(p->efd[v]);
			return -1;
		}
	}
	return 0;
}

static void accept_one(struct peer *p)
{
	bool first = !p->known;
	int fd, i, v;

	fd = accept4(p->listen, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EINTR && errno != EAGAIN)
			fprintf(stderr, "hdmabuf-ivshmem-server: accept %s: %s\n",
				p->path, strerror(errno));
		return;
	}
	if (p->conn >= 0) {
		fprintf(stderr, "hdmabuf-ivshmem-server: %s: peer %ld is taken, refused\n",
			p->path, p->id);
		close(fd);
		return;
	}
	if (first && make_efds(p)) {
		close(fd);
		return;
	}
	if (send_msg(fd, 0, -1) || send_msg(fd, p->id, -1) ||
	    send_msg(fd, -1, p->shm)) {
		if (first)
			for (v = 0; v < nr_vectors; v++)
				close(p->efd[v]);
		close(fd);
		return;
	}
	p->conn = fd;
	p->known = true;
	for (i = 0; i < nr_peers; i++) {
		if (&peers[i] == p)
			continue;
		if (peers[i].known)
			announce(p, &peers[i]);
		if (first && peers[i].conn >= 0)
			announce(&peers[i], p);
	}
	announce(p, p);
	presence(p);
}

/*
 * sign_mbox - write the mailbox signature at @off of @fd: version, then
 * the magic of the transport -t chose
 */
static void sign_mbox(int fd, const char *shm, long off)
{
	uint32_t version = htole32(MBOX_VERSION), magic = htole32(mbox_magic);
	struct stat st;

	if (fstat(fd, &st) || off + 8 > st.st_size) {
		fprintf(stderr, "hdmabuf-ivshmem-server: %s: mbox=%ld: past the end\n",
			shm, off);
		exit(1);
	}
	/* A reader that sees the magic sees the version. */
	if (pwrite(fd, &version, 4, off + 4) != 4 ||
	    pwrite(fd, &magic, 4, off) != 4) {
		fprintf(stderr, "hdmabuf-ivshmem-server: %s: sign the mailbox: %s\n",
			shm, strerror(errno));
		exit(1);
	}
}

/* parse_peer - SOCKET,id=N,shm=FILE[,status=OFFSET][,mbox=OFFSET] */
static void parse_peer(char *arg)
{
	struct peer *p = &peers[nr_peers];
	long status = -1, mbox = -1;
	char *opt, *end;
	const char *shm = NULL;

	if (nr_peers == MAX_PEERS)
		die_usage();
	memset(p, 0, sizeof(*p));
	p->id = -1;
	p->conn = -1;
	p->path = strsep(&arg, ",");
	while ((opt = strsep(&arg, ","))) {
		if (!strncmp(opt, "id=", 3)) {
			p->id = strtol(opt + 3, &end, 0);
			if (*end || p->id < 0 || p->id > 0xffff)
				die_usage();
		} else if (!strncmp(opt, "shm=", 4)) {
			shm = opt + 4;
		} else if (!strncmp(opt, "status=", 7)) {
			status = strtol(opt + 7, &end, 0);
			if (*end || status < 0 || status % 4)
				die_usage();
		} else if (!strncmp(opt, "mbox=", 5)) {
			mbox = strtol(opt + 5, &end, 0);
			if (*end || mbox < 0 || mbox % 4096)
				die_usage();
		} else {
			die_usage();
		}
	}
	if (!*p->path || p->id < 0 || !shm)
		die_usage();
	p->shm = open(shm, O_RDWR | O_CLOEXEC);
	if (p->shm < 0) {
		fprintf(stderr, "hdmabuf-ivshmem-server: %s: %s\n", shm,
			strerror(errno));
		exit(1);
	}
	if (status >= 0) {
		long pg = sysconf(_SC_PAGESIZE);
		off_t base = status & ~(pg - 1);
		struct stat st;

		if (fstat(p->shm, &st) || status + 4 > st.st_size) {
			fprintf(stderr, "hdmabuf-ivshmem-server: %s: status=%ld: past the end\n",
				shm, status);
			exit(1);
		}
		p->map_len = pg;
		p->map = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED,
			      p->shm, base);
		if (p->map == MAP_FAILED) {
			fprintf(stderr, "hdmabuf-ivshmem-server: mmap %s: %s\n",
				shm, strerror(errno));
			exit(1);
		}
		p->status = (uint32_t *)((char *)p->map + (status - base));
	}
	p->shm_path = shm;
	p->mbox = mbox;
	nr_peers++;
}

static void listen_on(struct peer *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(p->path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "hdmabuf-ivshmem-server: %s: path too long\n",
			p->path);
		exit(1);
	}
	strcpy(sa.sun_path, p->path);
	p->listen = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->listen < 0)
		goto fail;
	unlink(p->path);
	if (bind(p->listen, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(p->listen, 4))
		goto fail;
	return;
fail:
	fprintf(stderr, "hdmabuf-ivshmem-server: %s: %s\n", p->path,
		strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "peer", required_argument, NULL, 'P' },
		{ "vectors", required_argument, NULL, 'v' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "transport", required_argument, NULL, 't' },
		{ }
	};
	struct pollfd pfd[2 * MAX_PEERS + 1];
	const char *pidfile = NULL;
	int c, i, n, sfd;
	sigset_t block;
	char buf[64];

	while ((c = getopt_long(argc, argv, "v:p:t:", longopts, NULL)) != -1) {
		switch (c) {
		case 'P':
			parse_peer(optarg);
			break;
		case 't':
			if (!strcmp(optarg, "mailbox"))
				mbox_magic = MBOX_MAGIC;
			else if (!strcmp(optarg, "virtio"))
				mbox_magic = VIRTIO_MAGIC;
			else
				die_usage();
			break;
		case 'v':
			nr_vectors = atoi(optarg);
			if (nr_vectors < 1 || nr_vectors > MAX_VECTORS)
				die_usage();
			break;
		case 'p':
			pidfile = optarg;
			break;
		default:
			die_usage();
		}
	}
	if (optind != argc || !nr_peers)
		die_usage();
	for (i = 0; i < nr_peers; i++)
		for (n = i + 1; n < nr_peers; n++)
			if (peers[i].id == peers[n].id)
				die_usage();
	/* Signed before anyone can connect, with the magic -t chose. */
	for (i = 0; i < nr_peers; i++)
		if (peers[i].mbox >= 0)
			sign_mbox(peers[i].shm, peers[i].shm_path,
				  peers[i].mbox);
	for (i = 0; i < nr_peers; i++)
		listen_on(&peers[i]);

	/* SIGTERM and SIGINT arrive as a readable signalfd. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sfd = signalfd(-1, &block, SFD_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "hdmabuf-ivshmem-server: signalfd: %s\n",
			strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	if (pidfile) {
		FILE *f = fopen(pidfile, "w");

		if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f)) {
			fprintf(stderr, "hdmabuf-ivshmem-server: %s: %s\n",
				pidfile, strerror(errno));
			return 1;
		}
	}

	for (;;) {
		for (i = 0; i < nr_peers; i++) {
			pfd[2 * i] = (struct pollfd){
				.fd = peers[i].listen, .events = POLLIN };
			pfd[2 * i + 1] = (struct pollfd){
				.fd = peers[i].conn, .events = POLLIN };
		}
		pfd[2 * nr_peers] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		n = poll(pfd, 2 * nr_peers + 1, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "hdmabuf-ivshmem-server: poll: %s\n",
				strerror(errno));
			break;
		}
		if (pfd[2 * nr_peers].revents)
			break;
		for (i = 0; i < nr_peers; i++) {
			struct peer *p = &peers[i];

			/* QEMU never talks: anything readable is the end. */
			if (p->conn >= 0 && pfd[2 * i + 1].revents) {
				ssize_t r = recv(p->conn, buf, sizeof(buf),
						 MSG_DONTWAIT);

				if (r == 0 || (r < 0 && errno != EAGAIN &&
					       errno != EINTR))
					drop(p);
			}
			if (pfd[2 * i].revents & POLLIN)
				accept_one(p);
		}
	}

	for (i = 0; i < nr_peers; i++) {
		if (peers[i].conn >= 0)
			drop(&peers[i]);
		for (n = 0; peers[i].known && n < nr_vectors; n++)
			close(peers[i].efd[n]);
		close(peers[i].listen);
		unlink(peers[i].path);
		if (peers[i].map)
			munmap(peers[i].map, peers[i].map_len);
		close(peers[i].shm);
	}
	if (pidfile)
		unlink(pidfile);
	return 0;
}
