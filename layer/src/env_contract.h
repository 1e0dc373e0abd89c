/* Generated from cli/layer-env.ts by tools/gen (node dist/tools/gen/main.js): do not edit.
 * The environment the CLI hands the layer: variable names, and the formats of their values. */
#ifndef PODLINK_ENV_CONTRACT_H
#define PODLINK_ENV_CONTRACT_H

#define PL_ENV_SOCK                    "PODLINK_SOCK"  /* path of the intproxy's unix socket; unset = the layer stays passive */
#define PL_ENV_DEBUG                   "PODLINK_DEBUG"  /* flag: log to stderr */
#define PL_ENV_FS_MODE                 "PODLINK_FS_MODE"  /* one of the FS_MODES below */
#define PL_ENV_FS_READ_ONLY            "PODLINK_FS_READ_ONLY"  /* list of POSIX EREs */
#define PL_ENV_FS_READ_WRITE           "PODLINK_FS_READ_WRITE"  /* list of POSIX EREs */
#define PL_ENV_FS_LOCAL                "PODLINK_FS_LOCAL"  /* list of POSIX EREs */
#define PL_ENV_FS_NOT_FOUND            "PODLINK_FS_NOT_FOUND"  /* list of POSIX EREs */
#define PL_ENV_FS_LOCAL_PREFIXES       "PODLINK_FS_LOCAL_PREFIXES"  /* list of absolute directories kept local */
#define PL_ENV_OUTGOING_TCP            "PODLINK_OUTGOING_TCP"  /* flag, default on */
#define PL_ENV_OUTGOING_UDP            "PODLINK_OUTGOING_UDP"  /* flag, default on */
#define PL_ENV_IGNORE_LOCALHOST        "PODLINK_IGNORE_LOCALHOST"  /* flag, default on */
#define PL_ENV_DNS                     "PODLINK_DNS"  /* flag, default on */
#define PL_ENV_HOSTNAME                "PODLINK_HOSTNAME"  /* the target's hostname, for gethostname and uname; empty = the real one */
#define PL_ENV_INCOMING                "PODLINK_INCOMING"  /* flag, default off: tell the intproxy about listening sockets */
#define PL_ENV_LISTEN_PORTS            "PODLINK_LISTEN_PORTS"  /* list of APP_PORT:LOCAL_PORT pairs (listen_ports) */
#define PL_ENV_SUPERVISOR              "PODLINK_SUPERVISOR"  /* absolute path of podlink-supervisor; unset = no hand-over */
#define PL_ENV_UV_USE_IO_URING         "UV_USE_IO_URING"  /* always "0" */

#define PL_ENV_PREFIX                  "PODLINK_"  /* every variable of the layer; children inherit them all */
#define PL_ENV_LIST_SEP                "\n"  /* lists: one item per line */
#define PL_ENV_FLAG_ON                 "1"
#define PL_ENV_FLAG_OFF                "0"  /* also "false"; unset or empty = the default */
#define PL_ENV_FS_MODE_READ            "read"
#define PL_ENV_FS_MODE_WRITE           "write"
#define PL_ENV_FS_MODE_LOCAL           "local"
#define PL_ENV_FS_MODE_LOCALWITHOVERRIDES "localwithoverrides"

#endif
