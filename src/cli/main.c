/*
 * main.c — the `wire` command: dispatch to subcommands.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/core.h"

static int usage(FILE *f)
{
    fprintf(
        f,
        "usage: wire COMMAND [ARGS]\n"
        "\n"
        "  run FILE.yaml...        run pipelines in this process (standalone)\n"
        "  validate FILE.yaml...   check pipeline files; FILE:LINE:COL: message on error\n"
        "  help [TOPIC]            sources | sinks | transforms | guarantees | a type's options\n"
        "  serve [FLAGS]           a cluster node (bare `wire --FLAGS` means serve)\n"
        "  pipeline create -f FILE | list | get NAME | delete NAME | pause NAME | resume NAME\n"
        "  cluster status | nodes | remove ID\n"
        "  token create --name N --role admin|operator|viewer|node | list | revoke NAME\n"
        "      client commands (pipeline, cluster, token) take --addr HOST:PORT\n"
        "      (localhost:4001), -o table|json, and --token TOKEN (or $WIRE_TOKEN) for\n"
        "      nodes with --auth\n"
        "  version                 print the version\n");
    return f == stderr ? 1 : 0;
}

int wire_cli_fatal(const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fatal: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (usage)
        fputs(usage, stderr);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    const char *cmd = argv[1];
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("wire %s\n", WIRE_VERSION);
        return 0;
    }
    for (size_t i = 0; i < wire_ncommands; i++)
        if (strcmp(cmd, wire_commands[i].name) == 0)
            return wire_commands[i].fn(argc - 1, argv + 1);
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0)
        return usage(stdout);
    if (cmd[0] == '-') /* bare `wire --flags` is a node, as in the original */
        return wire_cmd_serve(argc, argv);
    fprintf(stderr, "fatal: unknown command '%s' (try: wire --help)\n", cmd);
    return 1;
}
