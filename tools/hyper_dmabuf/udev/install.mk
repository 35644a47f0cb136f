# SPDX-License-Identifier: GPL-2.0
# /dev/hyper_dmabuf for group video (tools/hyper_dmabuf/Makefile reads this)
UDEV_RULES += udev/70-hyper_dmabuf.rules
