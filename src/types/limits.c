/* limits: see limits.h. */
#include "types/limits.h"

enc_limits limits = {
    .hash_max_listpack_entries = 128,
    .hash_max_listpack_value = 64,
    .list_max_listpack_size = -2,
    .list_compress_depth = 0,
    .set_max_intset_entries = 512,
    .set_max_listpack_entries = 128,
    .set_max_listpack_value = 64,
    .zset_max_listpack_entries = 128,
    .zset_max_listpack_value = 64,
    .hll_sparse_max_bytes = 3000,
    .stream_node_max_bytes = 4096,
    .stream_node_max_entries = 100,
};
