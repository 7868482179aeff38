/* object: the per-type operations on a key's heap value (the VAL_PTR of an
 * entry): free it, say how much memory it holds, and how much work freeing it
 * is (used to decide whether to free it in the background). */
#ifndef SARDINE_OBJECT_H
#define SARDINE_OBJECT_H
#include <stddef.h>

void obj_free(int type, void *ptr);
size_t obj_bytes(int type, void *ptr);
size_t obj_free_effort(int type, void *ptr);
const char *obj_type_name(int type);
#endif
