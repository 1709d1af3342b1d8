/*
 * cli.h — subcommands of the `wire` binary. Each lives in its own cmd_*.c
 * and is listed in commands.c.
 */
#ifndef WIRE_CLI_H
#define WIRE_CLI_H

#include <stddef.h>

typedef struct wire_command {
    const char *name;
    int (*fn)(int argc, char **argv); /* argv[0] is the command name */
} wire_command;

extern const wire_command wire_commands[];
extern const size_t wire_ncommands;

int wire_cmd_run(int argc, char **argv);
int wire_cmd_validate(int argc, char **argv);
int wire_cmd_help(int argc, char **argv);
int wire_cmd_serve(int argc, char **argv);
int wire_cmd_cluster(int argc, char **argv);

#endif
