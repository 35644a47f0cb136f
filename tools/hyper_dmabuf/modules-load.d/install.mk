# SPDX-License-Identifier: GPL-2.0
# The core module at boot (tools/hyper_dmabuf/Makefile reads this)
MODULES_LOAD += modules-load.d/hyper-dmabuf.conf
