// SPDX-License-Identifier: GPL-2.0
/*
 * rig-xen-peers: print what HYPER_DMABUF_IOCTL_INFO says about this VM,
 * for the Xen rig's checks, on one line:
 *
 *	vmid=1 version=1 peers=0,2
 *
 * Each peer is followed by /BACKEND when it is not "xen" (e.g. 5/loopback).
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/hyper_dmabuf.h>

#define MAX_PEERS	64

int main(void)
{
	struct hyper_dmabuf_peer peers[MAX_PEERS];
	struct hyper_dmabuf_info info;
	unsigned int i, n;
	int fd;

	fd = open("/dev/" HYPER_DMABUF_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("rig-xen-peers: /dev/" HYPER_DMABUF_DEVICE_NAME);
		return 1;
	}
	memset(&info, 0, sizeof(info));
	memset(peers, 0, sizeof(peers));
	info.nr_peers = MAX_PEERS;
	info.peers = (unsigned long)peers;
	if (ioctl(fd, HYPER_DMABUF_IOCTL_INFO, &info)) {
		perror("rig-xen-peers: HYPER_DMABUF_IOCTL_INFO");
		return 1;
	}
	if (info.vmid == HYPER_DMABUF_VMID_INVALID)
		printf("vmid=none");
	else
		printf("vmid=%u", info.vmid);
	printf(" version=%u peers=", info.version);
	n = info.nr_peers < MAX_PEERS ? info.nr_peers : MAX_PEERS;
	for (i = 0; i < n; i++) {
		printf("%s%u", i ? "," : "", peers[i].vmid);
		peers[i].backend[sizeof(peers[i].backend) - 1] = '\0';
		if (strcmp(peers[i].backend, "xen"))
			printf("/%s", peers[i].backend);
	}
	printf("\n");
	close(fd);
	return 0;
}
