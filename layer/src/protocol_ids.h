/* Generated from protocol/spec.ts by tools/gen (node dist/tools/gen/main.js): do not edit. */
#ifndef PODLINK_PROTOCOL_IDS_H
#define PODLINK_PROTOCOL_IDS_H

#define PL_PROTOCOL_VERSION 6
#define PL_MAX_FRAME 16778240u
#define PL_HEADER_AFTER_LENGTH 6
#define PL_INITIAL_WINDOW 1048576u
#define PL_MAX_DATA_CHUNK 65536u
#define PL_MAX_FILE_CHUNK 4194304u

#define PL_MSG_HELLO             0x0001
#define PL_MSG_HELLO_OK          0x0002
#define PL_MSG_ERROR             0x0003
#define PL_MSG_OK                0x0004
#define PL_MSG_PING              0x0005  /* agent link only */
#define PL_MSG_PONG              0x0006  /* agent link only */
#define PL_MSG_RESOLVE           0x0010
#define PL_MSG_RESOLVED          0x0011
#define PL_MSG_GET_ADDR_CONFIG   0x0012
#define PL_MSG_ADDR_CONFIG       0x0013
#define PL_MSG_STAT              0x0020
#define PL_MSG_STAT_RESULT       0x0021
#define PL_MSG_ACCESS            0x0022
#define PL_MSG_READ_LINK         0x0023
#define PL_MSG_LINK              0x0024
#define PL_MSG_READ_DIR          0x0025
#define PL_MSG_DIR_ENTRIES       0x0026
#define PL_MSG_READ_FILE         0x0027
#define PL_MSG_FILE_DATA         0x0028
#define PL_MSG_WRITE_FILE        0x0029
#define PL_MSG_GET_ENV           0x0030  /* agent link only */
#define PL_MSG_ENV               0x0031  /* agent link only */
#define PL_MSG_CONNECT           0x0040
#define PL_MSG_CONNECTED         0x0041
#define PL_MSG_RELEASE           0x0042
#define PL_MSG_TCP_CONNECT       0x0050  /* agent link only */
#define PL_MSG_UDP_OPEN          0x0051  /* agent link only */
#define PL_MSG_DATA              0x0052  /* agent link only */
#define PL_MSG_WINDOW            0x0053  /* agent link only */
#define PL_MSG_SHUTDOWN          0x0054  /* agent link only */
#define PL_MSG_CLOSE             0x0055  /* agent link only */
#define PL_MSG_LISTEN            0x0060
#define PL_MSG_UNLISTEN          0x0061
#define PL_MSG_INCOMING_PEER     0x0062
#define PL_MSG_PEER              0x0063
#define PL_MSG_SUBSCRIBE         0x0070  /* agent link only */
#define PL_MSG_UNSUBSCRIBE       0x0071  /* agent link only */
#define PL_MSG_INCOMING_OPEN     0x0072  /* agent link only */

#endif
