/* crc64: the CRC-64 that RDB files and DUMP payloads end with (Jones
 * polynomial 0xad93d23594c935a9, reflected, initial value 0, no final xor;
 * crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9ca).  The format fixes the
 * algorithm.  Slice-by-8 tables (16 KiB, built once by crc64_init or on
 * first use) make it run at a few GB/s, and carry-less multiplies (x86-64
 * with PCLMULQDQ, inputs of 256 bytes and more) about five times that, so a
 * RESTORE payload's checksum and the background writer's cost little. */
#ifndef SARDINE_CRC64_H
#define SARDINE_CRC64_H
#include <stddef.h>
#include <stdint.h>

void crc64_init(void); /* optional: builds the tables (thread-safe to call before threads start) */
uint64_t crc64(uint64_t crc, const void *p, size_t n);
#endif
