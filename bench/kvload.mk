# kvload.mk — builds the C1 load generator (bench/kvload.c); standalone, no
# libwire. Used by bench/cluster.sh, or run
#   make -f bench/kvload.mk BUILD=build/release
BUILD ?= build/release
CC ?= cc

$(BUILD)/kvload: bench/kvload.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -o $@ $< $(shell pkg-config --cflags --libs libuv)
