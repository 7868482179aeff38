/* limits: the encoding thresholds of the data types (Redis's *-max-listpack-*,
 * set-max-intset-entries, list-compress-depth, stream-node-max-*,
 * hll-sparse-max-bytes).
 *
 * The types read their thresholds from this one parameter block, which
 * belongs to the types layer: the configuration (features/config.c) writes it,
 * and a unit test, a loader or a tool sets it directly.  No module of types/
 * reads the server's state. */
#ifndef SARDINE_TYPES_LIMITS_H
#define SARDINE_TYPES_LIMITS_H

typedef struct enc_limits {
    long long hash_max_listpack_entries, hash_max_listpack_value;
    long long list_max_listpack_size, list_compress_depth;
    long long set_max_intset_entries, set_max_listpack_entries, set_max_listpack_value;
    long long zset_max_listpack_entries, zset_max_listpack_value;
    long long hll_sparse_max_bytes;
    long long stream_node_max_bytes, stream_node_max_entries;
} enc_limits;

/* In force for every value created or changed from now on; starts at Redis 7.0's defaults. */
extern enc_limits limits;
#endif
