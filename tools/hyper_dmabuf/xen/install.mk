# SPDX-License-Identifier: GPL-2.0
# dom0's Xen tools (tools/hyper_dmabuf/Makefile reads this): the link
# command, and the daemon that links configured domains as they come and
# go, with its unit.  The daemon needs libxenstore (libxen-dev), which
# Debian builds only where Xen runs: without xenstore.h it is left out.
SBIN_SCRIPTS += xen/hdmabuf-xen-link
MAN8 += xen/hdmabuf-xen-link.8
ifneq ($(wildcard /usr/include/xenstore.h),)
SBIN_PROGS += xen/hdmabuf-xen-linkd
LDLIBS_hdmabuf-xen-linkd := -lxenstore
MAN8 += xen/hdmabuf-xen-linkd.8
UNITS += systemd/hdmabuf-xen-linkd.service
endif
