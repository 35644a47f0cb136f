// SPDX-License-Identifier: GPL-2.0
/*
 * hdmabuf-xen-linkd: links domains for hyper_dmabuf's Xen backend as they
 * come up, and removes their links when they go (runs in dom0).
 *
 * The configuration names the domains to link, by name:
 *
 *   link NAME NAME		one pair
 *   group NAME NAME...		every two of them
 *
 * with "#" comments.  dom0 is "Domain-0".  The daemon watches
 * @introduceDomain and @releaseDomain, as the toolstack does, and on each
 * event (and at start) reconciles xenstore with the configuration: it
 * removes every hyper_dmabuf link node of a live domain whose peer is no
 * longer a live domain, then links every configured pair whose two
 * domains are live and not linked yet.  A link is what hdmabuf-xen-link
 * writes (see that script), written here in one transaction.  SIGHUP
 * re-reads the configuration; links of live domains are never removed.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <xenstore.h>

#define PROG "hdmabuf-xen-linkd"
#define DEFAULT_CONF "/etc/hyper_dmabuf/xen-links.conf"
#define TX_RETRIES 20

struct pair {
	char *a;
	char *b;
};

struct config {
	struct pair *pairs;
	unsigned int n;
};

struct dom {
	unsigned int id;
	char *name;
};

struct doms {
	struct dom *d;
	unsigned int n;
};

static void msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p) {
		msg("out of memory");
		exit(1);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p) {
		msg("out of memory");
		exit(1);
	}
	return p;
}

static void config_free(struct config *c)
{
	unsigned int i;

	for (i = 0; i < c->n; i++) {
		free(c->pairs[i].a);
		free(c->pairs[i].b);
	}
	free(c->pairs);
	c->pairs = NULL;
	c->n = 0;
}

static void config_add(struct config *c, const char *a, const char *b)
{
	unsigned int i;

	if (strcmp(a, b) > 0) {
		const char *t = a;

		a = b;
		b = t;
	}
	for (i = 0; i < c->n; i++)
		if (!strcmp(c->pairs[i].a, a) && !strcmp(c->pairs[i].b, b))
			return;
	c->pairs = realloc(c->pairs, (c->n + 1) * sizeof(*c->pairs));
	if (!c->pairs) {
		msg("out of memory");
		exit(1);
	}
	c->pairs[c->n].a = xstrdup(a);
	c->pairs[c->n].b = xstrdup(b);
	c->n++;
}

#define MAX_WORDS 64

/* Returns 0, or -1 after printing FILE:LINE: what is wrong. */
static int config_read(const char *path, struct config *c)
{
	char line[4096], *w[MAX_WORDS], *s, *save;
	unsigned int lineno = 0, n, i, j;
	FILE *f;

	c->pairs = NULL;
	c->n = 0;
	f = fopen(path, "r");
	if (!f) {
		msg("%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			msg("%s:%u: line too long", path, lineno);
			goto bad;
		}
		s = strchr(line, '#');
		if (s)
			*s = '\0';
		n = 0;
		for (s = strtok_r(line, " \t\r\n", &save); s;
		     s = strtok_r(NULL, " \t\r\n", &save)) {
			if (n == MAX_WORDS) {
				msg("%s:%u: more than %d words", path, lineno,
				    MAX_WORDS - 1);
				goto bad;
			}
			w[n++] = s;
		}
		if (!n)
			continue;
		if (strcmp(w[0], "link") && strcmp(w[0], "group")) {
			msg("%s:%u: unknown keyword \"%s\" (link or group)",
			    path, lineno, w[0]);
			goto bad;
		}
		if (!strcmp(w[0], "link") && n != 3) {
			msg("%s:%u: link needs two domain names, got %u",
			    path, lineno, n - 1);
			goto bad;
		}
		if (n < 3) {
			msg("%s:%u: group needs two domain names at least, got %u",
			    path, lineno, n - 1);
			goto bad;
		}
		for (i = 1; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (!strcmp(w[i], w[j])) {
					msg("%s:%u: \"%s\" twice: a domain cannot link to itself",
					    path, lineno, w[i]);
					goto bad;
				}
		for (i = 1; i < n; i++)
			for (j = i + 1; j < n; j++)
				config_add(c, w[i], w[j]);
	}
	if (ferror(f)) {
		msg("%s: read error", path);
		goto bad;
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	config_free(c);
	return -1;
}

static void doms_free(struct doms *ds)
{
	unsigned int i;

	for (i = 0; i < ds->n; i++)
		free(ds->d[i].name);
	free(ds->d);
	ds->d = NULL;
	ds->n = 0;
}

/*
 * The live domains: under /local/domain, introduced to xenstored (a dying
 * domain's tree may outlive it for a while), with a name.
 */
static int doms_read(struct xs_handle *xs, struct doms *ds)
{
	unsigned int num, i, len;
	char **ents, path[64], *name, *end;
	unsigned long id;

	ds->d = NULL;
	ds->n = 0;
	ents = xs_directory(xs, XBT_NULL, "/local/domain", &num);
	if (!ents) {
		msg("cannot list /local/domain: %s", strerror(errno));
		return -1;
	}
	ds->d = xmalloc((num + 1) * sizeof(*ds->d));
	for (i = 0; i < num; i++) {
		errno = 0;
		id = strtoul(ents[i], &end, 10);
		if (errno || *end || end == ents[i] || id > 0x7fef)
			continue;
		if (!xs_is_domain_introduced(xs, id))
			continue;
		snprintf(path, sizeof(path), "/local/domain/%lu/name", id);
		name = xs_read(xs, XBT_NULL, path, &len);
		if (!name)
			continue;
		ds->d[ds->n].id = id;
		ds->d[ds->n].name = name;
		ds->n++;
	}
	free(ents);
	return 0;
}

static const char *doms_name(const struct doms *ds, unsigned int id)
{
	unsigned int i;

	for (i = 0; i < ds->n; i++)
		if (ds->d[i].id == id)
			return ds->d[i].name;
	return NULL;
}

/* 1 and *id when exactly one live domain has NAME, 0 when none, -1 more */
static int doms_find(const struct doms *ds, const char *name, unsigned int *id)
{
	unsigned int i, found = 0;

	for (i = 0; i < ds->n; i++)
		if (!strcmp(ds->d[i].name, name)) {
			*id = ds->d[i].id;
			found++;
		}
	return found > 1 ? -1 : (int)found;
}

static bool xs_exists(struct xs_handle *xs, xs_transaction_t t, const char *p)
{
	unsigned int len;
	char *v = xs_read(xs, t, p, &len);
	bool found = v;

	free(v);
	return found;
}

static void link_paths(unsigned int be, unsigned int fe, char *bep, char *fep,
		       size_t sz)
{
	snprintf(bep, sz, "/local/domain/%u/backend/hyper_dmabuf/%u/%u",
		 be, fe, be);
	snprintf(fep, sz, "/local/domain/%u/device/hyper_dmabuf/%u", fe, be);
}

static bool rm_ok(struct xs_handle *xs, xs_transaction_t t, const char *p)
{
	return xs_rm(xs, t, p) || errno == ENOENT;
}

static bool write_node(struct xs_handle *xs, xs_transaction_t t,
		       const char *dir, const char *key, const char *val,
		       unsigned int owner, unsigned int reader)
{
	struct xs_permissions perms[2] = {
		{ .id = owner, .perms = XS_PERM_NONE },
		{ .id = reader, .perms = XS_PERM_READ },
	};
	char p[160];

	snprintf(p, sizeof(p), "%s%s%s", dir, key ? "/" : "", key ? key : "");
	if (key && !xs_write(xs, t, p, val, strlen(val)))
		return false;
	return xs_set_permissions(xs, t, p, perms, 2);
}

struct link_ends {
	unsigned int be;
	unsigned int fe;
};

/*
 * The nodes and permissions of hdmabuf-xen-link, in one transaction (so
 * both ends and their states appear at once); any half of an earlier link
 * goes first.
 */
static bool link_tx(struct xs_handle *xs, xs_transaction_t t, const void *arg)
{
	const struct link_ends *l = arg;
	unsigned int be = l->be, fe = l->fe;
	char bep[128], fep[128], v[128];

	link_paths(be, fe, bep, fep, sizeof(bep));
	if (!rm_ok(xs, t, bep) || !rm_ok(xs, t, fep))
		return false;
	snprintf(v, sizeof(v), "%s", fep);
	if (!write_node(xs, t, bep, "frontend", v, be, fe))
		return false;
	snprintf(v, sizeof(v), "%u", fe);
	if (!write_node(xs, t, bep, "frontend-id", v, be, fe))
		return false;
	if (!write_node(xs, t, bep, "state", "1", be, fe) ||
	    !write_node(xs, t, bep, NULL, NULL, be, fe))
		return false;
	snprintf(v, sizeof(v), "%s", bep);
	if (!write_node(xs, t, fep, "backend", v, fe, be))
		return false;
	snprintf(v, sizeof(v), "%u", be);
	if (!write_node(xs, t, fep, "backend-id", v, fe, be))
		return false;
	return write_node(xs, t, fep, "state", "1", fe, be) &&
	       write_node(xs, t, fep, NULL, NULL, fe, be);
}

/* Remove one end of a link to a gone domain */
static bool unlink_tx(struct xs_handle *xs, xs_transaction_t t,
		      const void *path)
{
	return rm_ok(xs, t, path);
}

/* Run OP in a transaction, again while xenstored says EAGAIN */
static bool in_tx(struct xs_handle *xs,
		  bool (*op)(struct xs_handle *, xs_transaction_t, const void *),
		  const void *arg)
{
	xs_transaction_t t;
	int i, e;

	for (i = 0; i < TX_RETRIES; i++) {
		t = xs_transaction_start(xs);
		if (t == XBT_NULL)
			return false;
		if (!op(xs, t, arg)) {
			e = errno;
			xs_transaction_end(xs, t, true);
			errno = e;
			return false;
		}
		if (xs_transaction_end(xs, t, false))
			return true;
		if (errno != EAGAIN)
			return false;
	}
	return false;
}

/* Remove the link ends in D's tree (TYPE: backend or device) to gone peers */
static void prune(struct xs_handle *xs, const struct doms *ds,
		  const struct dom *d, const char *type)
{
	char dir[96], path[160], *end;
	unsigned int num, i;
	unsigned long peer;
	char **ents;

	snprintf(dir, sizeof(dir), "/local/domain/%u/%s/hyper_dmabuf",
		 d->id, type);
	ents = xs_directory(xs, XBT_NULL, dir, &num);
	if (!ents)
		return;
	for (i = 0; i < num; i++) {
		errno = 0;
		peer = strtoul(ents[i], &end, 10);
		if (errno || *end || end == ents[i] || doms_name(ds, peer))
			continue;
		snprintf(path, sizeof(path), "%s/%lu", dir, peer);
		if (in_tx(xs, unlink_tx, path))
			msg("unlinked %s (%u) from gone domain %lu: removed %s",
			    d->name, d->id, peer, path);
		else
			msg("cannot remove %s: %s", path, strerror(errno));
	}
	free(ents);
}

static int reconcile(struct xs_handle *xs, const struct config *c)
{
	char bep[128], fep[128];
	unsigned int i, ida = 0, idb = 0, be, fe;
	struct link_ends l;
	struct doms ds;
	int ra, rb;

	if (doms_read(xs, &ds))
		return -1;
	for (i = 0; i < ds.n; i++) {
		prune(xs, &ds, &ds.d[i], "backend");
		prune(xs, &ds, &ds.d[i], "device");
	}
	for (i = 0; i < c->n; i++) {
		ra = doms_find(&ds, c->pairs[i].a, &ida);
		rb = doms_find(&ds, c->pairs[i].b, &idb);
		if (ra < 0 || rb < 0) {
			msg("not linking %s and %s: two domains named %s",
			    c->pairs[i].a, c->pairs[i].b,
			    ra < 0 ? c->pairs[i].a : c->pairs[i].b);
			continue;
		}
		if (!ra || !rb)
			continue;
		be = ida < idb ? ida : idb;
		fe = ida < idb ? idb : ida;
		link_paths(be, fe, bep, fep, sizeof(bep));
		if (xs_exists(xs, XBT_NULL, bep) &&
		    xs_exists(xs, XBT_NULL, fep))
			continue;
		l.be = be;
		l.fe = fe;
		if (in_tx(xs, link_tx, &l))
			msg("linked %s (%u) and %s (%u)", doms_name(&ds, be),
			    be, doms_name(&ds, fe), fe);
		else
			msg("cannot link %s (%u) and %s (%u): %s",
			    doms_name(&ds, be), be, doms_name(&ds, fe), fe,
			    strerror(errno));
	}
	doms_free(&ds);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"Usage: " PROG " [-f] [-n] [-c FILE]\n"
		"  -c FILE  configuration (default " DEFAULT_CONF ")\n"
		"  -f       stay in the foreground\n"
		"  -n       check the configuration and exit\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *conf = DEFAULT_CONF;
	bool fg = false, check = false;
	struct signalfd_siginfo si;
	struct xs_handle *xs;
	struct pollfd pfd[2];
	struct config c;
	char **w;
	sigset_t ss;
	int opt, sfd;
	bool dirty;

	while ((opt = getopt(argc, argv, "c:fnh")) != -1) {
		switch (opt) {
		case 'c':
			conf = optarg;
			break;
		case 'f':
			fg = true;
			break;
		case 'n':
			check = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (config_read(conf, &c))
		return 1;
	if (check) {
		msg("%s: %u pairs", conf, c.n);
		return 0;
	}

	/*
	 * Before xs_open(): libxenstore reads watch events in a thread of its
	 * own, which a fork would leave behind.
	 */
	if (!fg && daemon(0, 1)) {
		msg("daemon: %s", strerror(errno));
		return 1;
	}
	sigemptyset(&ss);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	if (sigprocmask(SIG_BLOCK, &ss, NULL)) {
		msg("sigprocmask: %s", strerror(errno));
		return 1;
	}
	sfd = signalfd(-1, &ss, SFD_CLOEXEC);
	if (sfd < 0) {
		msg("signalfd: %s", strerror(errno));
		return 1;
	}
	xs = xs_open(0);
	if (!xs) {
		msg("cannot connect to xenstore: %s", strerror(errno));
		return 1;
	}
	if (!xs_watch(xs, "@introduceDomain", "introduce") ||
	    !xs_watch(xs, "@releaseDomain", "release")) {
		msg("cannot watch domains: %s", strerror(errno));
		return 1;
	}
	msg("%s: %u pairs; watching domains", conf, c.n);
	if (reconcile(xs, &c))
		return 1;

	pfd[0].fd = xs_fileno(xs);
	pfd[0].events = POLLIN;
	pfd[1].fd = sfd;
	pfd[1].events = POLLIN;
	if (pfd[0].fd < 0) {
		msg("xs_fileno: %s", strerror(errno));
		return 1;
	}
	for (;;) {
		/* Block until a watch fires or a signal comes: no timeout. */
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			msg("poll: %s", strerror(errno));
			return 1;
		}
		dirty = false;
		if (pfd[1].revents & POLLIN) {
			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo != SIGHUP) {
				msg("signal %u, exiting", si.ssi_signo);
				break;
			}
			{
				struct config n;

				if (config_read(conf, &n)) {
					msg("%s: keeping the previous configuration",
					    conf);
				} else {
					config_free(&c);
					c = n;
					msg("%s: reloaded, %u pairs", conf,
					    c.n);
					dirty = true;
				}
			}
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			while ((w = xs_check_watch(xs))) {
				free(w);
				dirty = true;
			}
			if (errno != EAGAIN) {
				msg("xenstore watch: %s", strerror(errno));
				return 1;
			}
		}
		if (dirty && reconcile(xs, &c))
			return 1;
	}
	xs_close(xs);
	config_free(&c);
	return 0;
}
