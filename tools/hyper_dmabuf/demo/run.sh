#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The main job: boot a VM on Debian's kernel and run hyper_dmabuf_demo in
# it, printing what it shared.
set -euo pipefail
exec "$(dirname "$0")/../rig/qemu.sh" --demo stock
