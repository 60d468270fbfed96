/* wf4ctl operations subcommands (status, doctor, select, requeue): table of commands. */
#include <stddef.h>

#include "ctl.h"

const ctl_command ctl_ops_commands[] = {
    {NULL, NULL, NULL},
};
