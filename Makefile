# qemu-fast: out-of-tree build of a patched QEMU 10.0.
#
# 'make boot' and 'make check' do all the set-up on a fresh Debian 12
# machine; 'make help' lists the targets.

B := $(CURDIR)/build
PREFIX ?= /usr/local
SRC := $(B)/src/qemu
IMAGE ?= linux-i386

-include config.mk

.PHONY: all help deps qemu boot check check-slow check-unit images image \
        check-images patches-check bench upstream fuzz install uninstall deb \
        clean distclean
.DELETE_ON_ERROR:

all: qemu

help:
	@echo 'make            build build/qemu-fast and build/qemu-i386'
	@echo 'make boot       build everything and boot the guest (IMAGE=$(IMAGE));'
	@echo '                IMAGE=debian-i386 CMD="..." runs CMD in Debian,'
	@echo '                KERNEL=686-pae boots its 686-pae kernel'
	@echo 'make check      build everything and run the tests (~15 min)'
	@echo 'make check-slow the Debian disk image tests (builds it: ~7 min)'
	@echo 'make fuzz       differential fuzzing, fast=off against fast=seg'
	@echo '                (SEED=n N=cases)'
	@echo 'make bench      benchmark against upstream, classic and native'
	@echo '                (QUICK=1: quick scale, ~20 min; results in build/bench)'
	@echo 'make upstream   build unpatched upstream QEMU in build/upstream'
	@echo 'make images     build every guest image (scripts/mkimage --list)'
	@echo 'make patches-check  check the quilt series on a pristine tree'
	@echo 'make install    install qemu-fast, qemu-fast-i386 and their man pages'
	@echo '                (PREFIX=$(PREFIX), DESTDIR honoured); make uninstall'
	@echo 'make deb        build/deb/qemu-fast_*_amd64.deb, checked by lintian'
	@echo 'make deps       install the Debian packages (root)'
	@echo 'make clean      remove the QEMU build, keep sources and downloads'
	@echo 'make distclean  remove build/ and config.mk'

# --- set-up ----------------------------------------------------------------

deps $(B)/.deps-installed: scripts/install-deps
	scripts/install-deps
	@mkdir -p $(B) && touch $(B)/.deps-installed

# A fresh clone has no config.mk: install what is missing, then configure
# with the defaults (or with the options given last time).
config.mk: configure | $(B)/.deps-installed
	./configure $(CONFIGURE_ARGS)

# --- upstream tree, series and QEMU build ---------------------------------

# The tree is fetched again only when the chosen upstream changes.
UPSTREAM_ID = $(UPSTREAM) $(shell sed -n 's/^UPSTREAM_SHA256=//p' scripts/upstream.conf)

qemu: config.mk
	@if [ "$$(cat $(B)/src/.upstream-id 2>/dev/null)" != "$(UPSTREAM_ID)" ] || \
	    [ ! -f $(SRC)/VERSION ]; then \
	    scripts/fetch-upstream --upstream=$(UPSTREAM) && \
	    echo "$(UPSTREAM_ID)" >$(B)/src/.upstream-id; \
	fi
	scripts/apply-series
	scripts/build-qemu --src=$(SRC) --out=$(B)/qemu \
	    --target-list=$(TARGET_LIST) --cc=$(QEMU_CC) \
	    $(if $(filter 1,$(ENABLE_DEBUG)),--debug) \
	    $(if $(EXTRA_CFLAGS),--extra-cflags="$(EXTRA_CFLAGS)") \
	    $(if $(MESON_PYTHONPATH),--meson-path=$(MESON_PYTHONPATH))
	@if [ -x $(B)/qemu/qemu-system-i386 ]; then \
	    ln -sfn qemu/qemu-system-i386 $(B)/qemu-fast; fi
	@if [ -x $(B)/qemu/qemu-i386 ]; then \
	    ln -sfn qemu/qemu-i386 $(B)/qemu-i386; fi
	@echo "make: built $$(ls $(B)/qemu-fast $(B)/qemu-i386 2>/dev/null | tr '\n' ' ')"

# --- guest images ----------------------------------------------------------

# debian-i386 runs debootstrap's second stage in build/qemu-fast
image: config.mk qemu
	scripts/mkimage $(IMAGE)

images: config.mk qemu
	scripts/mkimage all

# The images make check boots (the Debian disk is make check-slow's)
CHECK_IMAGES := linux-i386 linux-i386-pae memtest86+ iso

check-images: config.mk qemu
	@for i in $(CHECK_IMAGES); do scripts/mkimage $$i || exit 1; done

# CMD (debian-i386): a shell command, from the environment so that its
# quotes survive; write $$ for a $.  KERNEL (debian-i386): 686 or 686-pae.
boot: qemu image
	scripts/boot-guest --image=$(IMAGE) $(if $(DISPLAY),--display) \
	    $(if $(KERNEL),--kernel="$$KERNEL") $(if $(CMD),--cmd="$$CMD")

# --- benchmarks ------------------------------------------------------------

# The same upstream tree with no patches, same configure flags and
# targets, built beside ours: the relative source paths and generated
# headers match build/qemu's, so ccache serves every file the series
# does not touch.
upstream: config.mk
	@if [ "$$(cat $(B)/upstream/.upstream-id 2>/dev/null)" != "$(UPSTREAM_ID)" ] || \
	    [ ! -f $(B)/upstream/src/qemu/VERSION ]; then \
	    scripts/fetch-upstream --upstream=$(UPSTREAM) \
	        --dest=$(B)/upstream/src/qemu && \
	    echo "$(UPSTREAM_ID)" >$(B)/upstream/.upstream-id; \
	fi
	scripts/build-qemu --src=$(B)/upstream/src/qemu --out=$(B)/upstream/qemu \
	    --target-list=$(TARGET_LIST) --cc=$(QEMU_CC) \
	    $(if $(filter 1,$(ENABLE_DEBUG)),--debug) \
	    $(if $(EXTRA_CFLAGS),--extra-cflags="$(EXTRA_CFLAGS)") \
	    $(if $(MESON_PYTHONPATH),--meson-path=$(MESON_PYTHONPATH))

# Both add the macro benchmarks in the Debian image (built first: about
# 10 minutes once, then a no-op): the full run at full scale, 3 runs;
# QUICK=1 one run at the quick scale.
bench: qemu image upstream
	scripts/mkimage debian-i386
	scripts/bench $(if $(filter 1,$(QUICK)),--quick,--macro) \
	    $(if $(SCALE),--scale=$(SCALE))

# --- tests -----------------------------------------------------------------

patches-check: config.mk
	scripts/patches-check --upstream=$(UPSTREAM)

# upstream: the validate suite compares qemu-i386 with upstream's
check: qemu check-images upstream
	tests/run-tests --upstream=$(UPSTREAM)

check-slow: qemu
	scripts/mkimage debian-i386
	tests/run-tests --upstream=$(UPSTREAM) debian

fuzz: qemu
	tests/fuzz/run $(if $(SEED),--seed=$(SEED)) $(if $(N),--cases=$(N))

# --- installing ------------------------------------------------------------

install: qemu
	scripts/install-qemu-fast --prefix=$(PREFIX) $(if $(DESTDIR),--destdir=$(DESTDIR))

uninstall:
	scripts/install-qemu-fast --uninstall --prefix=$(PREFIX) \
	    $(if $(DESTDIR),--destdir=$(DESTDIR))

deb: qemu
	scripts/mkdeb

# --- cleaning --------------------------------------------------------------

clean:
	rm -rf $(B)/qemu $(B)/qemu-fast $(B)/qemu-i386 $(B)/tests $(B)/images

distclean:
	rm -rf $(B) config.mk
