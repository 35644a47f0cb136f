# SPDX-License-Identifier: GPL-2.0
# dom0's Xen tools (tools/hyper_dmabuf/Makefile reads this).  A C daemon
# adds itself with SBIN_PROGS += xen/NAME, LDLIBS_NAME := -lxenstore,
# MAN8 and UNITS lines.
SBIN_SCRIPTS += xen/hdmabuf-xen-link
MAN8 += xen/hdmabuf-xen-link.8
