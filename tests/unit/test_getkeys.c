/* Unit tests for the command definitions and key extraction (commands/command_defs.c, commands/getkeys.c):
 * the definitions are sorted (command_def_find bisects them), every command's key specs are well formed, and
 * the commands Sardine does not implement yet (EVAL, FCALL, MIGRATE, PUBLISH ...) already yield the keys and
 * flags redis-server 7.0.15's COMMAND GETKEYSANDFLAGS gives for the same lines (answers recorded from it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "commands/command.h"

#define MAXARGS 16

/* Keys of a space-separated command line ("" written as '-'), as "pos:flags pos:flags". */
static const char *keys_of(const char *line) {
    static char buf[MAXARGS][32], out[256];
    arg argv[MAXARGS];
    int argc = 0;
    for (const char *p = line; *p && argc < MAXARGS;) {
        size_t n = strcspn(p, " ");
        memcpy(buf[argc], p, n);
        buf[argc][n] = 0;
        argv[argc].p = buf[argc];
        argv[argc].len = strcmp(buf[argc], "-") ? n : 0;
        argc++;
        p += n + (p[n] == ' ');
    }
    const cmd_def *d = command_def_find(argv[0].p, argv[0].len);
    assert_non_null(d);
    keyref keys[8];
    int nk = cmd_def_get_keys(d, argv, argc, keys, 8);
    out[0] = 0;
    for (int i = 0; i < nk && i < 8; i++)
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%d:%x", i ? " " : "", keys[i].pos,
                 keys[i].flags);
    return out;
}

static void test_definitions_sorted_and_found(void **state) {
    (void)state;
    assert_true(command_defs_count > 360);
    for (int i = 1; i < command_defs_count; i++)
        assert_true(strcmp(command_defs[i - 1].fullname, command_defs[i].fullname) < 0);
    for (int i = 0; i < command_defs_count; i++)
        assert_ptr_equal(command_def_find(command_defs[i].fullname, strlen(command_defs[i].fullname)),
                         &command_defs[i]);
    assert_null(command_def_find("nosuch", 6));
    assert_null(command_def_find("ge", 2));
    assert_non_null(command_def_find("CONFIG|GET", 10));
}

static void test_specs_well_formed(void **state) {
    (void)state;
    for (int i = 0; i < command_defs_count; i++) {
        const cmd_def *d = &command_defs[i];
        for (int j = 0; j < d->nspecs; j++) {
            const key_spec *s = &d->specs[j];
            if (s->bs == KS_BS_KEYWORD) assert_non_null(s->keyword);
            if (s->fk != KS_FK_UNKNOWN) assert_true(s->keystep >= 1);
            if (s->bs == KS_BS_UNKNOWN || s->fk == KS_FK_UNKNOWN ||
                (s->flags & (KS_INCOMPLETE | KS_VARIABLE_FLAGS)))
                assert_non_null(d->getkeys); /* the specs alone cannot always answer */
        }
        if (d->flags & CMD_MOVABLE_KEYS) assert_true(cmd_def_has_keys(d));
    }
}

#define RW_ACC_UPD (KS_RW | KS_ACCESS | KS_UPDATE)
#define RW_ACC_DEL (KS_RW | KS_ACCESS | KS_DELETE)

static void test_commands_not_implemented_yet(void **state) {
    (void)state;
    char want[64];
    snprintf(want, sizeof(want), "3:%x 4:%x", RW_ACC_UPD, RW_ACC_UPD);
    assert_string_equal(keys_of("eval s 2 a b x"), want);
    assert_string_equal(keys_of("fcall f 2 a b"), want);
    assert_string_equal(keys_of("eval s 0"), "");
    assert_string_equal(keys_of("eval s 3 a"), "");
    assert_string_equal(keys_of("eval s x a"), "");
    snprintf(want, sizeof(want), "3:%x", KS_RO | KS_ACCESS);
    assert_string_equal(keys_of("evalsha_ro h 1 a"), want);
    assert_string_equal(keys_of("fcall_ro f 1 a"), want);
    snprintf(want, sizeof(want), "3:%x", RW_ACC_DEL);
    assert_string_equal(keys_of("migrate h 1 k 0 10"), want);
    snprintf(want, sizeof(want), "10:%x 11:%x", RW_ACC_DEL, RW_ACC_DEL);
    assert_string_equal(keys_of("migrate h 1 - 0 10 COPY AUTH keys KEYS a b"), want);
    assert_string_equal(keys_of("migrate h 1 k 0 10 KEYS a"), "");
    snprintf(want, sizeof(want), "10:%x", RW_ACC_DEL);
    assert_string_equal(keys_of("migrate h 1 - 0 10 AUTH2 u p KEYS a"), want);
    assert_false(cmd_def_has_keys(command_def_find("publish", 7)));
    assert_false(cmd_def_has_keys(command_def_find("spublish", 8))); /* its only spec is NOT_KEY */
    assert_false(cmd_def_has_keys(command_def_find("debug", 5)));
    snprintf(want, sizeof(want), "1:%x 2:%x", KS_RO, KS_RO);
    assert_string_equal(keys_of("watch a b"), want);
}

static void test_more_keys_than_room(void **state) {
    (void)state;
    static char names[40][16];
    arg argv[41] = {{"del", 3}};
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof(names[i]), "k%d", i);
        argv[i + 1] = (arg){names[i], strlen(names[i])};
    }
    keyref keys[4];
    assert_int_equal(cmd_def_get_keys(command_def_find("del", 3), argv, 41, keys, 4), 40);
    assert_int_equal(keys[3].pos, 4);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_definitions_sorted_and_found),
        cmocka_unit_test(test_specs_well_formed),
        cmocka_unit_test(test_commands_not_implemented_yet),
        cmocka_unit_test(test_more_keys_than_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
