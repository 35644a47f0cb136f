# SPDX-License-Identifier: GPL-2.0
# The hdmabuf CLI (tools/hyper_dmabuf/Makefile reads this).
BIN_PROGS += cli/hdmabuf
# written separately; installed once it exists
MAN1 += cli/hdmabuf.1
UAPI_HEADERS += $(TOP)/include/uapi/linux/hyper_dmabuf.h
