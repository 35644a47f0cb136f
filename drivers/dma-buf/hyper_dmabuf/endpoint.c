// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf: endpoints, and who may bind an open file to one.
 *
 * A buffer is exported to a VM and an endpoint of it: a short name such as
 * "display" or "camera".  In the importing VM only the open files bound to
 * that endpoint see the buffer, get its events and may import it; files
 * never bound belong to the default endpoint, the empty name, so a system
 * nobody configured works as before.
 *
 * Root says who may bind which name through configfs, the kernel's
 * interface for objects an administrator creates and names:
 *
 *	mkdir /sys/kernel/config/hyper_dmabuf/endpoints/display
 *	echo 1000 > /sys/kernel/config/hyper_dmabuf/endpoints/display/uid
 *	echo 44 > /sys/kernel/config/hyper_dmabuf/endpoints/display/gid
 *
 * A process may bind a configured name when its filesystem uid is the
 * endpoint's uid, or it is in the endpoint's group, or it has
 * CAP_SYS_ADMIN.  Removing the directory stops new binds; files already
 * bound keep their endpoint.  A state is visible with ls and cat, and
 * scripts or a unit file at boot can set it up, which an ioctl on a
 * control node could not offer as simply.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <linux/capability.h>
#include <linux/configfs.h>
#include <linux/ctype.h>
#include <linux/cred.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uidgid.h>

#include "hdmabuf.h"

/**
 * struct hdmabuf_endpoint - a configured endpoint
 * @item: its configfs item; the item's name is the endpoint's name
 * @lock: protects @uid and @gid
 * @uid: the user that may bind it, or INVALID_UID
 * @gid: the group whose members may bind it, or INVALID_GID
 */
struct hdmabuf_endpoint {
	struct config_item item;
	spinlock_t lock;	/* protects uid and gid */
	kuid_t uid;
	kgid_t gid;
};

/**
 * hdmabuf_endpoint_valid() - whether @name is an endpoint's name
 * @name: HYPER_DMABUF_ENDPOINT_LEN bytes
 * @allow_default: the empty name (the default endpoint) is valid too
 *
 * A name is 1 to HYPER_DMABUF_ENDPOINT_LEN - 1 characters of A-Z, a-z,
 * 0-9, '_', '-' and '.', not starting with '.', then NUL bytes only.
 *
 * Return: true when it is.
 */
bool hdmabuf_endpoint_valid(const char *name, bool allow_default)
{
	size_t len = strnlen(name, HYPER_DMABUF_ENDPOINT_LEN);
	size_t i;

	if (len == HYPER_DMABUF_ENDPOINT_LEN)
		return false;
	if (!len)
		return allow_default &&
		       !memchr_inv(name, 0, HYPER_DMABUF_ENDPOINT_LEN);
	if (name[0] == '.' ||
	    memchr_inv(name + len, 0, HYPER_DMABUF_ENDPOINT_LEN - len))
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum(name[i]) && !strchr("_-.", name[i]))
			return false;
	return true;
}

static struct hdmabuf_endpoint *to_endpoint(struct config_item *item)
{
	return container_of(item, struct hdmabuf_endpoint, item);
}

static ssize_t hdmabuf_ep_uid_show(struct config_item *item, char *page)
{
	struct hdmabuf_endpoint *ep = to_endpoint(item);
	kuid_t uid;

	spin_lock(&ep->lock);
	uid = ep->uid;
	spin_unlock(&ep->lock);
	if (!uid_valid(uid))
		return scnprintf(page, PAGE_SIZE, "-1\n");
	return scnprintf(page, PAGE_SIZE, "%u\n",
			 from_kuid_munged(current_user_ns(), uid));
}

static ssize_t hdmabuf_ep_uid_store(struct config_item *item,
				    const char *page, size_t len)
{
	struct hdmabuf_endpoint *ep = to_endpoint(item);
	kuid_t uid = INVALID_UID;
	int val, ret;

	ret = kstrtoint(page, 0, &val);
	if (ret)
		return ret;
	if (val != -1) {
		uid = make_kuid(current_user_ns(), val);
		if (val < 0 || !uid_valid(uid))
			return -EINVAL;
	}
	spin_lock(&ep->lock);
	ep->uid = uid;
	spin_unlock(&ep->lock);
	return len;
}

static ssize_t hdmabuf_ep_gid_show(struct config_item *item, char *page)
{
	struct hdmabuf_endpoint *ep = to_endpoint(item);
	kgid_t gid;

	spin_lock(&ep->lock);
	gid = ep->gid;
	spin_unlock(&ep->lock);
	if (!gid_valid(gid))
		return scnprintf(page, PAGE_SIZE, "-1\n");
	return scnprintf(page, PAGE_SIZE, "%u\n",
			 from_kgid_munged(current_user_ns(), gid));
}

static ssize_t hdmabuf_ep_gid_store(struct config_item *item,
				    const char *page, size_t len)
{
	struct hdmabuf_endpoint *ep = to_endpoint(item);
	kgid_t gid = INVALID_GID;
	int val, ret;

	ret = kstrtoint(page, 0, &val);
	if (ret)
		return ret;
	if (val != -1) {
		gid = make_kgid(current_user_ns(), val);
		if (val < 0 || !gid_valid(gid))
			return -EINVAL;
	}
	spin_lock(&ep->lock);
	ep->gid = gid;
	spin_unlock(&ep->lock);
	return len;
}

CONFIGFS_ATTR(hdmabuf_ep_, uid);
CONFIGFS_ATTR(hdmabuf_ep_, gid);

static struct configfs_attribute *hdmabuf_ep_attrs[] = {
	&hdmabuf_ep_attr_uid,
	&hdmabuf_ep_attr_gid,
	NULL,
};

static void hdmabuf_ep_release(struct config_item *item)
{
	kfree(to_endpoint(item));
}

static struct configfs_item_operations hdmabuf_ep_item_ops = {
	.release = hdmabuf_ep_release,
};

static const struct config_item_type hdmabuf_ep_type = {
	.ct_item_ops = &hdmabuf_ep_item_ops,
	.ct_attrs = hdmabuf_ep_attrs,
	.ct_owner = THIS_MODULE,
};

/* mkdir endpoints/NAME: a valid name, which nobody may bind yet. */
static struct config_item *hdmabuf_ep_make(struct config_group *group,
					   const char *name)
{
	char buf[HYPER_DMABUF_ENDPOINT_LEN] = { 0 };
	struct hdmabuf_endpoint *ep;

	if (strscpy(buf, name, sizeof(buf)) < 0 ||
	    !hdmabuf_endpoint_valid(buf, false))
		return ERR_PTR(-EINVAL);
	ep = kzalloc(sizeof(*ep), GFP_KERNEL);
	if (!ep)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&ep->lock);
	ep->uid = INVALID_UID;
	ep->gid = INVALID_GID;
	config_item_init_type_name(&ep->item, name, &hdmabuf_ep_type);
	return &ep->item;
}

static struct configfs_group_operations hdmabuf_eps_group_ops = {
	.make_item = hdmabuf_ep_make,
};

static const struct config_item_type hdmabuf_eps_type = {
	.ct_group_ops = &hdmabuf_eps_group_ops,
	.ct_owner = THIS_MODULE,
};

static const struct config_item_type hdmabuf_root_type = {
	.ct_owner = THIS_MODULE,
};

static struct config_group hdmabuf_eps_group;

static struct configfs_subsystem hdmabuf_subsys = {
	.su_group = {
		.cg_item = {
			.ci_namebuf = "hyper_dmabuf",
			.ci_type = &hdmabuf_root_type,
		},
	},
};

/* Whether the caller may bind configured endpoint @name. */
static int hdmabuf_endpoint_permit(const char *name)
{
	struct config_item *item;
	struct hdmabuf_endpoint *ep;
	bool ok;

	mutex_lock(&hdmabuf_subsys.su_mutex);
	item = config_group_find_item(&hdmabuf_eps_group, name);
	mutex_unlock(&hdmabuf_subsys.su_mutex);
	if (!item)
		return -ENOENT;
	ep = to_endpoint(item);
	spin_lock(&ep->lock);
	ok = uid_eq(ep->uid, current_fsuid()) || in_group_p(ep->gid);
	spin_unlock(&ep->lock);
	config_item_put(item);
	if (!ok && !capable(CAP_SYS_ADMIN))
		return -EACCES;
	return 0;
}

/**
 * hdmabuf_ioctl_bind() - HYPER_DMABUF_IOCTL_BIND
 * @hf: the open file to bind
 * @arg: struct hyper_dmabuf_bind
 * @out: unused: the call returns nothing
 *
 * Return: 0, -EINVAL for a malformed name or nonzero flags or reserved
 * fields, -ENOENT when root configured no such endpoint, -EACCES when the
 * caller may not bind it, -EBUSY when @hf is bound already.
 */
long hdmabuf_ioctl_bind(struct hdmabuf_file *hf, void *arg,
			const struct hdmabuf_ioctl_out *out)
{
	struct hyper_dmabuf_bind *b = arg;
	int ret;

	if (b->flags || memchr_inv(b->reserved, 0, sizeof(b->reserved)) ||
	    !hdmabuf_endpoint_valid(b->endpoint, false))
		return -EINVAL;
	ret = hdmabuf_endpoint_permit(b->endpoint);
	if (ret)
		return ret;
	return hdmabuf_event_file_bind(hf, b->endpoint);
}

/**
 * hdmabuf_endpoint_init() - register the endpoints' configfs subsystem
 *
 * Return: 0 or a negative errno.
 */
int hdmabuf_endpoint_init(void)
{
	config_group_init(&hdmabuf_subsys.su_group);
	mutex_init(&hdmabuf_subsys.su_mutex);
	config_group_init_type_name(&hdmabuf_eps_group, "endpoints",
				    &hdmabuf_eps_type);
	configfs_add_default_group(&hdmabuf_eps_group, &hdmabuf_subsys.su_group);
	return configfs_register_subsystem(&hdmabuf_subsys);
}

/**
 * hdmabuf_endpoint_exit() - unregister it
 */
void hdmabuf_endpoint_exit(void)
{
	configfs_unregister_subsystem(&hdmabuf_subsys);
}
