# SPDX-License-Identifier: GPL-2.0
# The ACRN model's ivshmem-doorbell server (tools/hyper_dmabuf/Makefile
# reads this).  ivshmem-server-check is the rig's, not shipped.
SBIN_PROGS += acrn/hdmabuf-ivshmem-server
MAN8 += acrn/hdmabuf-ivshmem-server.8
UNITS += systemd/hdmabuf-ivshmem-server.service
DEFAULTS += systemd/default/hdmabuf-ivshmem-server
