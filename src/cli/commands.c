/*
 * commands.c — the table of subcommands.
 */
#include "cli/cli.h"

const wire_command wire_commands[] = {
    {"run", wire_cmd_run},     {"validate", wire_cmd_validate}, {"help", wire_cmd_help},
    {"serve", wire_cmd_serve}, {"cluster", wire_cmd_cluster},   {"pipeline", wire_cmd_pipeline},
    {"token", wire_cmd_token},
};
const size_t wire_ncommands = sizeof(wire_commands) / sizeof(wire_commands[0]);
