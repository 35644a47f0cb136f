# SPDX-License-Identifier: GPL-2.0
#
# hyper_dmabuf: build, lint and test out of tree.
#
#   make			modules against Debian's linux-headers-amd64
#				(make KDIR=/path/to/build/tree to override)
#   make selftests		the kselftests, static
#   make lint			checkpatch --strict, W=1 and sparse builds
#   make kernel-debug		build the KASAN and Xen debug kernels (cached)
#   make check			the QEMU rig on Debian's kernel and the KASAN kernel,
#				the Xen rigs (x86, arm64) and the ACRN-model rig
#				(both transports)
#   make check-xen		the Xen rig alone (dom0 + two domUs under Xen 4.17)
#   make check-xen-arm64	the same on arm64 (Debian's arm64 Xen and kernel
#				under qemu-system-aarch64): auto-translated domains
#   make check-acrn		the ACRN-model rig alone (a service VM + two user
#				VMs whose RAM it maps, over ivshmem), twice: the
#				links over the mailbox, then over virtio
#   make test			everything CI runs; ends with "N passed, N failed"
#   make demo			the main job, visible to a person
#   make bench			benchmarks in the ACRN-model rig (mailbox links,
#				then virtio links) and the Xen rig: a table of
#				ratios, build/bench/results.json, latency.png
#   make bench-latency		the event and frame series of make bench only,
#				in the same three rigs
#   make fuzz			fuzz_test in the KASAN rig: FUZZ_CALLS calls
#				(default 10^6) or FUZZ_SECONDS, from FUZZ_SEED
#				(default from the clock; printed, replays the run);
#				then PEER_FUZZ (10^5) malformed messages each way
#				over the ACRN model's mailbox and virtio links and
#				over Xen's ring
#   make patches		the driver as a git format-patch series for
#				linux-source-6.1, with a cover letter, in
#				build/patches (OUT=dir to override)
#   make check-patches		apply that series to a pristine tree: W=1
#				build, checkpatch --strict, MAINTAINERS, Sphinx
#   make check-patches-each	the same, and the build after every patch
#   make deb			the Debian packages (hyper-dmabuf-dkms,
#				hyper-dmabuf-tools) into build/packages/
#   make check-packages	build them, lintian, DKMS for Debian's kernel,
#				and the plain rig with the .debs' modules and
#				tools
#   make clean
#
# Every target installs missing Debian packages first (tools/hyper_dmabuf/
# lib/deps.sh, a no-op when all is there).  Output goes to build/.

T := tools/hyper_dmabuf

ifneq ($(KDIR),)
FLAVOR := kdir
export KDIR
else
FLAVOR := stock
endif

all: modules

deps:
	@$(T)/lib/deps.sh

modules: deps
	@$(T)/build.sh modules $(FLAVOR)

selftests: deps
	@$(T)/build.sh selftests

lint: deps
	@$(T)/test-all.sh lint

kernel-debug: deps
	@$(T)/test-all.sh kernel-debug

check: deps
	@$(T)/test-all.sh kernel-debug qemu-stock qemu-kasan qemu-swiotlb \
		qemu-xen qemu-xen-arm64 qemu-acrn qemu-acrn-virtio

check-xen: deps
	@$(T)/test-all.sh qemu-xen

check-xen-arm64: deps
	@$(T)/test-all.sh qemu-xen-arm64

check-acrn: deps
	@$(T)/test-all.sh qemu-acrn qemu-acrn-virtio

test: deps
	@$(T)/test-all.sh

demo: deps
	@$(T)/demo/run.sh

bench: deps
	@$(T)/bench/run.sh

bench-latency: deps
	@HDMABUF_BENCH_SERIES=latency $(T)/bench/run.sh

fuzz: deps
	@FUZZ_CALLS=$(FUZZ_CALLS) FUZZ_SEED=$(FUZZ_SEED) \
		FUZZ_SECONDS=$(FUZZ_SECONDS) PEER_FUZZ=$(PEER_FUZZ) \
		$(T)/test-all.sh kernel-debug fuzz peer-fuzz

patches: deps
	@OUT=$(OUT) $(T)/patches.sh

check-patches: deps
	@$(T)/test-all.sh patches

check-patches-each: deps
	@$(T)/test-all.sh patches-each

deb: deps
	@$(T)/rig/packages.sh --deb

check-packages: deps
	@$(T)/test-all.sh packages

clean:
	rm -rf build

.PHONY: all deps modules selftests lint kernel-debug check check-xen \
	check-xen-arm64 \
	check-acrn test demo bench bench-latency fuzz patches check-patches \
	check-patches-each deb check-packages clean
