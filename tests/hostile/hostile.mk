# Hostile test guest kernels (tests/hostile/lib/hl.h): each
# tests/hostile/NAME.c plus the shared tests/hostile/lib/ becomes
# $(BUILD)/jobs/hostile/NAME.elf, linked like the built-in guest kernel
# (guestkernel/kernel.ld, whose entry symbol lib/entry.S provides) and
# compiled by its rules with its flags. Booted with `airlock run --kernel`
# by tests/integration/test_hostile.c.
HOSTILE_SRC := $(wildcard tests/hostile/*.c)
HOSTILE_LIB := $(wildcard tests/hostile/lib/*.c tests/hostile/lib/*.S)
HOSTILE_LIB_OBJ := $(patsubst %,$(BUILD)/gk/%.o,$(basename $(HOSTILE_LIB)))
HOSTILE := $(HOSTILE_SRC:tests/hostile/%.c=$(BUILD)/jobs/hostile/%.elf)

$(BUILD)/jobs/hostile/%.elf: $(BUILD)/gk/tests/hostile/%.o $(HOSTILE_LIB_OBJ) \
		guestkernel/kernel.ld
	@mkdir -p $(dir $@)
	$(CC) $(GK_CFLAGS) $(GK_LDFLAGS) $< $(HOSTILE_LIB_OBJ) -o $@

$(BUILD)/gk/tests/hostile/%.o: GK_CFLAGS += -Itests/hostile/lib

TEST_BINS += $(HOSTILE)
