# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# 95-foreign.sh: someone else's ivshmem device.  uos1 and the SOS each
# have one more ivshmem-doorbell device (acrn.sh), 4 MiB of a pattern with
# no mailbox signature, whose doorbell ids our driver once took for links
# (uos1's is 3 and probes before uos1's own link; the SOS's is 0x103).
# After every load, reload and unbind of the scenarios before, and an
# explicit bind now, neither is bound and the host finds both files
# exactly as it wrote them.  With virtio links the transport's driver
# (hyper_dmabuf_virtio_ivshmem) refuses them too.
. "$HDA_LIB/hda-share.sh"

# The guest's foreign device: the ivshmem one whose BAR 2 is 4 MiB.
find_foreign='for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor)" = 0x1af4 ] || continue
	set -- $(sed -n 3p $d/resource)
	[ $(($2 - $1 + 1)) = 4194304 ] && echo ${d##*/}
done'

for v in uos1 sos; do
	dev=$(on $v "$find_foreign")
	if [ -n "$dev" ] && [ "$(echo "$dev" | wc -l)" = 1 ]; then
		ok "$v: has the foreign ivshmem device ($dev)"
	else
		not_ok "$v: has the foreign ivshmem device (found: $dev)"
		continue
	fi
	check "$v: the driver has not bound it" \
		on $v "! test -e /sys/bus/pci/devices/$dev/driver"
	fails_with "$v: binding it by hand fails (ENODEV)" "No such device" \
		on $v "echo $dev >$HDA_DRV/bind"
	if [ "$HDA_TRANSPORT" = virtio ]; then
		fails_with "$v: binding it to the virtio transport fails (ENODEV)" \
			"No such device" on $v "echo $dev >$HDA_VDRV/bind"
	fi
	check "$v: it is still unbound" \
		on $v "! test -e /sys/bus/pci/devices/$dev/driver"
	if cmp -s "$HDA_RUN/foreign-$v.orig" "$HDA_SHM-foreign-$v"; then
		ok "$v: its memory is untouched"
	else
		diag "$(cmp "$HDA_RUN/foreign-$v.orig" "$HDA_SHM-foreign-$v" 2>&1 | head -n 3)"
		diag "$(cmp -l "$HDA_RUN/foreign-$v.orig" "$HDA_SHM-foreign-$v" 2>/dev/null | wc -l) bytes differ"
		not_ok "$v: its memory is untouched"
	fi
done
check "the SOS lists no link to a UOS 3" on sos "! hdmabuf info | grep -q '^peer 3 '"
check "uos1 still reaches the SOS over its own link" hda_reaches uos1 0
