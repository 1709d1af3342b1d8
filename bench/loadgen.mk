# loadgen.mk — builds the W4 load generator (bench/loadgen.c); standalone,
# no libwire. Include it from the top-level Makefile or run
#   make -f bench/loadgen.mk BUILD=build/release
BUILD ?= build/release
CC ?= cc

$(BUILD)/loadgen: bench/loadgen.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror -o $@ $< $(shell pkg-config --cflags --libs libuv) -lpthread
