# SPDX-License-Identifier: GPL-2.0
#
# Split the Xen rig's bulk channel (QEMU debugcon) into out/logs/NAME.log
# and out/files/NAME.b64 (+ NAME.md5).  Frames:
#
#	@@hdx begin log NAME		@@hdx begin file NAME
#	...text...			...base64...
#	@@hdx end log NAME		@@hdx end file NAME MD5
#
# Frames nest: a domU console log holds that domU's dmesg frame, which
# goes to its own file and not to the console's.  A frame left open (its
# sender died) ends with the enclosing one.  Usage:
#	awk -v out=DIR -f bulk-split.awk bulk.out

function target(kind, name) {
	gsub(/[^A-Za-z0-9._-]/, "_", name)
	return kind == "file" ? out "/files/" name ".b64" : out "/logs/" name ".log"
}

{ sub(/\r$/, "") }

/^@@hdx begin (log|file) [^ ]+$/ {
	depth++
	kind[depth] = $3
	name[depth] = $4
	file[depth] = target($3, $4)
	printf "" > file[depth]
	next
}
/^@@hdx end (log|file) [^ ]+/ {
	for (i = depth; i > 0 && name[i] != $4; i--)
		;
	if (i == 0)
		next
	if ($3 == "file" && NF >= 5) {
		md5 = file[i]
		sub(/\.b64$/, ".md5", md5)
		print $5 > md5
		close(md5)
	}
	for (; depth >= i; depth--)
		close(file[depth])
	next
}
depth > 0 { print > file[depth] }
