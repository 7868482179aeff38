/* fuzz_rdb: the RDB reader (persist/rdb_load.c) on DUMP payloads and whole
 * RDB images.
 *
 * Byte 0 of the input picks what the rest is:
 *   bit 0 clear  a DUMP payload's value (type byte, then the value); the
 *                footer (RDB version 10 and the CRC64) is added here, so the
 *                fuzzer's mutations reach the parser instead of failing the
 *                checksum; rdb_dump_verify and rdb_dump_load run on it.
 *   bit 0 set    a whole RDB file, loaded through a memfd by rdb_load_fd
 *                into the server's databases (flushed afterwards); bit 2
 *                turns the CRC64 trailer check off (rdbchecksum no), so
 *                mutated files reach the parser too.
 *   bit 1        deep sanitization (sanitize-dump-payload yes).
 *
 * A value that loads is then used: built into a key's entry, digested
 * (which reads every element) and checked with the type's structure check
 * when the load was deep, then freed.  LLVMFuzzerInitialize builds the
 * server state as main() does, without sockets.
 *
 * Checked: no memory error, leak or undefined behaviour; a deep load gives
 * a value whose structure check passes; nothing survives a failed load. */
#include "app/loop.h"
#include "commands/debug_cmds.h"
#include "commands/dispatch.h"
#include "fuzz/fuzz.h"
#include "features/config.h"
#include "keyspace/db.h"
#include "mem/arena.h"
#include "net/eventloop.h"
#include "persist/rdb_format.h"
#include "persist/rdb_load.h"
#include "server/server.h"
#include "types/object.h"
#include "util/crc64.h"
#include "util/mem.h"
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    config_set_defaults();
    if (arena_init((size_t)1 << 32) != 0) abort();
    server_init_state();
    dispatch_init();
    srv.el = el_create(srv.maxclients + 1024);
    srv.verbosity = LL_NOTHING;
    return 0;
}

static void use_value(entry_value *v, int deep) {
    handle_t h = entry_build("k", 1, -1, 0, v);
    FUZZ_CHECK(h != 0);
    uint8_t *e = arena_ptr(h);
    unsigned char d[20];
    digest_value(e, d);
    if (deep) {
        const char *why = check_value(e);
        if (why) fprintf(stderr, "deep load accepted a value that fails its check: %s\n", why);
        FUZZ_CHECK(why == NULL);
    }
    if (e_store(e) == VAL_PTR) {
        if (e_type(e) == OBJ_STRING) s_free(e_ptr(e));
        else obj_free(e_type(e), e_ptr(e));
    }
    entry_free(h);
}

static void check_key(void *ud, handle_t h) {
    (void)ud;
    const char *why = check_value(arena_ptr(h));
    if (why) fprintf(stderr, "deep load accepted a value that fails its check: %s\n", why);
    FUZZ_CHECK(why == NULL);
}

static void empty_all(void) {
    for (int i = 0; i < srv.dbnum; i++) db_flush(&srv.dbs[i], 0);
    while (db_lazyfree_step(1 << 20)) {
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2 || size > (1 << 20)) return 0;
    int mode = data[0], deep = (mode & 2) != 0;
    data++;
    size--;
    if (!(mode & 1)) {
        size_t n = size + 10;
        unsigned char *p = s_malloc(n);
        memcpy(p, data, size);
        p[size] = RDB_VERSION;
        p[size + 1] = 0;
        uint64_t crc = crc64(0, p, size + 2);
        for (int i = 0; i < 8; i++) p[size + 2 + i] = (unsigned char)(crc >> (8 * i));
        FUZZ_CHECK(rdb_dump_verify(p, n));
        entry_value v;
        const char *err = NULL;
        if (rdb_dump_load(p, n, deep, &v, &err)) use_value(&v, deep);
        else FUZZ_CHECK(err != NULL);
        s_free(p);
        return 0;
    }
    int fd = memfd_create("fuzz_rdb", MFD_CLOEXEC);
    if (fd < 0) abort();
    if (write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0) abort();
    rdb_load_opts o = {.deep = deep, .no_checksum = (mode & 4) != 0};
    rdb_load_info info;
    char err[512];
    int rc = rdb_load_fd(fd, &o, &info, err, sizeof(err));
    close(fd);
    if (rc == 0 && deep) {
        for (int i = 0; i < srv.dbnum; i++) {
            uint64_t cur = 0; /* every loaded value passes its structure check */
            do cur = kt_scan(&srv.dbs[i].t, cur, 1000, check_key, NULL);
            while (cur);
        }
    }
    empty_all();
    return 0;
}
