/* module_cmds: MODULE, for a server that loads no modules.
 *
 *   MODULE LIST            an empty list
 *   MODULE LOAD/LOADEX     Redis's load failure (Sardine has no module API)
 *   MODULE UNLOAD <name>   "no such module with that name"
 *   MODULE HELP
 *
 * LOAD, LOADEX and UNLOAD are protected commands: enable-module-command (no / yes / local) decides who
 * may run them, checked with DEBUG's in dispatch (Redis 7.0 checks them right after the arity). */
#include "commands/command.h"
#include "protocol/reply.h"
#include "server/server.h"

void cmd_module_list(client *c) { reply_array(c, 0); }

void cmd_module_load(client *c) {
    serverLog(LL_WARNING, "Module %.*s failed to load: this server has no module support", (int)c->argv[2].len,
              c->argv[2].p);
    reply_error(c, "ERR Error loading the extension. Please check the server logs.");
}

void cmd_module_unload(client *c) { reply_error(c, "ERR Error unloading module: no such module with that name"); }

static void cmd_module_help(client *c) {
    static const char *lines[] = {
        "LIST",
        "    Return a list of loaded modules.",
        "LOAD <path> [<arg> ...]",
        "    Load a module library from <path>, passing to it any optional arguments.",
        "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
        "    Load a module library from <path>, while passing it module configurations and optional arguments.",
        "UNLOAD <name>",
        "    Unload a module.",
        NULL};
    reply_help(c, "MODULE", lines);
}

static command module_subs[] = {
    {"list", cmd_module_list},
    {"load", cmd_module_load},
    {"loadex", cmd_module_load},
    {"unload", cmd_module_unload},
    {"help", cmd_module_help},
    {0}};

command module_commands[] = {
    {"module", NULL, module_subs},
    {0}};
