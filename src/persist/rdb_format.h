/* rdb_format: the constants of Redis's RDB format (files, DUMP payloads and
 * the RDB preamble of an AOF base file), as Redis 7.0 writes them and as
 * Redis 7.0 to 7.2 / Valkey 8 write what we read.
 *
 *   file     "REDIS" + 4 ASCII digits of version, then opcodes and key/value
 *            records, OP_EOF, and 8 bytes of CRC64 (little endian) of all the
 *            bytes before it (0 when written with rdbchecksum no).
 *   record   [OP_EXPIRETIME_MS ms(8 LE)] [OP_IDLE len | OP_FREQ byte] type key value
 *   DUMP     type value version(2 LE) crc64(8 LE) of everything before the crc
 *
 * Lengths: 00xxxxxx (6 bits), 01xxxxxx xxxxxxxx (14 bits), 0x80 + 4 bytes
 * big endian, 0x81 + 8 bytes big endian; 11xxxxxx announces a special string
 * encoding: 0 int8, 1 int16, 2 int32 (little endian), 3 LZF (clen, len, data). */
#ifndef SARDINE_RDB_FORMAT_H
#define SARDINE_RDB_FORMAT_H

#define RDB_VERSION 10          /* what we write (Redis 7.0) */
#define RDB_VERSION_MAX_READ 11 /* Redis 7.2, Valkey 8 */

/* value types */
enum {
    RDB_TYPE_STRING = 0,
    RDB_TYPE_LIST = 1,
    RDB_TYPE_SET = 2,
    RDB_TYPE_ZSET = 3,
    RDB_TYPE_HASH = 4,
    RDB_TYPE_ZSET_2 = 5,
    RDB_TYPE_MODULE = 6,
    RDB_TYPE_MODULE_2 = 7,
    RDB_TYPE_HASH_ZIPMAP = 9,
    RDB_TYPE_LIST_ZIPLIST = 10,
    RDB_TYPE_SET_INTSET = 11,
    RDB_TYPE_ZSET_ZIPLIST = 12,
    RDB_TYPE_HASH_ZIPLIST = 13,
    RDB_TYPE_LIST_QUICKLIST = 14,
    RDB_TYPE_STREAM_LISTPACKS = 15,
    RDB_TYPE_HASH_LISTPACK = 16,
    RDB_TYPE_ZSET_LISTPACK = 17,
    RDB_TYPE_LIST_QUICKLIST_2 = 18,
    RDB_TYPE_STREAM_LISTPACKS_2 = 19,
    RDB_TYPE_SET_LISTPACK = 20,
    RDB_TYPE_STREAM_LISTPACKS_3 = 21,
};

/* opcodes */
enum {
    RDB_OPCODE_FUNCTION2 = 245,
    RDB_OPCODE_FUNCTION_PRE_GA = 246,
    RDB_OPCODE_MODULE_AUX = 247,
    RDB_OPCODE_IDLE = 248,
    RDB_OPCODE_FREQ = 249,
    RDB_OPCODE_AUX = 250,
    RDB_OPCODE_RESIZEDB = 251,
    RDB_OPCODE_EXPIRETIME_MS = 252,
    RDB_OPCODE_EXPIRETIME = 253,
    RDB_OPCODE_SELECTDB = 254,
    RDB_OPCODE_EOF = 255,
};

/* length encodings */
#define RDB_6BITLEN 0
#define RDB_14BITLEN 1
#define RDB_32BITLEN 0x80
#define RDB_64BITLEN 0x81
#define RDB_ENCVAL 3
#define RDB_ENC_INT8 0
#define RDB_ENC_INT16 1
#define RDB_ENC_INT32 2
#define RDB_ENC_LZF 3

/* quicklist 2 node containers */
#define QUICKLIST_NODE_CONTAINER_PLAIN 1
#define QUICKLIST_NODE_CONTAINER_PACKED 2

/* stream listpack entry flags */
#define STREAM_ITEM_FLAG_NONE 0
#define STREAM_ITEM_FLAG_DELETED 1
#define STREAM_ITEM_FLAG_SAMEFIELDS 2

/* Value types a record or payload may carry (module types are refused). */
static inline int rdb_is_object_type(int t) { return (t >= 0 && t <= 5) || (t >= 9 && t <= 21 && t != 6 && t != 7); }
#endif
