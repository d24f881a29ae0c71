# Compatibility fixtures (issue 3): real programs nobody here wrote, built
# statically from Debian's own libraries, and the drives they read, made in
# the test build and never committed. Included from the top Makefile.
#   $(COMPAT)/lua, $(COMPAT)/python   static interpreters
#   $(COMPAT)/root/data, data.img     input files: native cwd / drive at /data
#   $(COMPAT)/pyhome, pystdlib.img    Python standard library subset / drive
COMPAT := $(BUILD)/jobs/compat
COMPAT_FIXTURES := $(COMPAT)/lua $(COMPAT)/python $(COMPAT)/data.img \
	$(COMPAT)/pystdlib.img
TEST_BINS += $(COMPAT_FIXTURES)

# Never -static-pie or sanitizers here: these are jobs, not host code.
COMPAT_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror

$(COMPAT)/lua: tests/compat/lua_main.c
	@mkdir -p $(dir $@)
	gcc $(COMPAT_CFLAGS) -I/usr/include/lua5.4 -static $< -llua5.4 -lm -o $@

# /usr/bin explicitly: a python3.11-config earlier in PATH (pyenv) describes
# another build. --ldflags leaves out what the built-in extension modules
# need (pyexpat/_elementtree: expat, zlib), since the shared library links
# those itself. Deferred (=) so that a missing tool fails only this rule.
PY_CONFIG := /usr/bin/python3.11-config
COMPAT_PY_CFLAGS = $(shell $(PY_CONFIG) --includes)
COMPAT_PY_LIBS = $(shell $(PY_CONFIG) --ldflags --embed) -lexpat -lz -lpthread -lutil

$(COMPAT)/python: tests/compat/python_main.c
	@mkdir -p $(dir $@)
	gcc $(COMPAT_CFLAGS) $(COMPAT_PY_CFLAGS) -static $< $(COMPAT_PY_LIBS) -o $@

# mke2fs -d sizes nothing itself: room for the files plus a quarter, and
# enough inodes for many small files. Without lost+found the drive holds
# exactly the directory's tree (its mode 700 would also stop a job that is
# not root from walking the drive, which the native run can).
define compat_ext2
	rm -f $(2)
	truncate -s $$(( $$(du -sk $(1) | cut -f1) * 5 / 4 + 2048 ))k $(2)
	mke2fs -q -F -t ext2 -N 4096 -d $(1) $(2)
	debugfs -w -R 'rmdir lost+found' $(2)
endef

$(COMPAT)/data.img: tests/compat/mkroot.sh tests/compat/compat.mk \
	$(shell find tests/compat/data)
	@mkdir -p $(dir $@)
	tests/compat/mkroot.sh tests/compat/data $(COMPAT)/root
	$(call compat_ext2,$(COMPAT)/root/data,$@)

# What a script needs of the standard library, and no more: no tests, no
# extension modules (a static interpreter cannot load them), no link to
# Debian's sitecustomize in /etc. Debian's bytecode caches stay: they halve
# the start-up time and stay valid, since tar and mke2fs -d keep the sources'
# modification times.
COMPAT_PY_EXCLUDE := test lib2to3 ensurepip idlelib tkinter turtledemo \
	lib-dynload 'config-3.11-*' pydoc_data distutils site-packages \
	dist-packages sitecustomize.py
$(COMPAT)/pystdlib.img: /usr/lib/python3.11/os.py tests/compat/compat.mk
	@mkdir -p $(dir $@)
	rm -rf $(COMPAT)/pyhome
	mkdir -p $(COMPAT)/pyhome/lib/python3.11
	tar -C /usr/lib/python3.11 $(COMPAT_PY_EXCLUDE:%=--exclude=%) -cf - . | \
		tar -C $(COMPAT)/pyhome/lib/python3.11 -xf -
	$(call compat_ext2,$(COMPAT)/pyhome/lib/python3.11,$@)
