/*
 * Descriptor ABI shared by the ring, every device and the JavaScript layer.
 *
 * Entries are laid out as a hardware queue would want them: fixed size,
 * versioned, naturally aligned, little-endian, and holding only addresses,
 * region offsets and lengths — never a pointer to a JavaScript object.
 * A device that cannot honour an entry completes it with a negative status;
 * it never touches memory the entry does not name.
 */
#ifndef UACCEL_RING_DESCRIPTOR_H
#define UACCEL_RING_DESCRIPTOR_H

#include <stdint.h>

#define UA_DESC_VERSION 1

/* Opcodes. Values are ABI: append, never renumber. */
enum ua_opcode {
  UA_OP_NOP = 0,             /* completes with status 0; used by tests and probes */
  UA_OP_DEFLATE = 1,         /* stateful: advance the context's deflate stream */
  UA_OP_INFLATE = 2,         /* stateful: advance the context's inflate stream */
  UA_OP_DEFLATE_BLOCK = 3,   /* stateless: one block, primed with hist, byte-aligned end */
  UA_OP_INFLATE_ONESHOT = 4, /* stateless: whole member, output bound known */
  UA_OP_CRC32 = 5,           /* CRC-32 of src seeded with arg; result in cqe.check */
  UA_OP_CIPHER = 16,         /* reserved: symmetric cipher update on a cipher context */
  UA_OP_DIGEST = 17,         /* reserved: hash/HMAC update on a digest context */
};

/* Submission flags. */
enum ua_sqe_flags {
  UA_SQE_PINNED = 1u << 0, /* src/dst/hist are offsets into the queue's pinned region */
  UA_SQE_FIRST = 1u << 1,  /* first descriptor of a stream or block sequence */
  UA_SQE_LAST = 1u << 2,   /* last descriptor of a stream or block sequence */
  UA_SQE_WRITES = 1u << 3, /* INFLATE: src is several writes, each stepped as its own write
                              (see zlib_stream.h): their lengths are the little-endian uint32s
                              at hist (hist_len / 4 of them, none 0, summing to src_len; else
                              -EINVAL), or with hist_len 0 `arg` bytes each, the last maybe
                              shorter */
};

/* Submission queue entry: 64 bytes. */
struct ua_sqe {
  uint8_t opcode;  /* enum ua_opcode */
  uint8_t version; /* UA_DESC_VERSION */
  uint8_t flush;   /* codec flush kind (zlib Z_* values for the deflate family) */
  uint8_t flags;   /* enum ua_sqe_flags */
  uint32_t src_len;
  uint64_t src; /* address (SVA) or region offset (UA_SQE_PINNED) */
  uint64_t dst;
  uint32_t dst_len;
  uint32_t hist_len;
  uint64_t hist; /* history window for stateless compression (write lengths for INFLATE with
                    UA_SQE_WRITES), 0 when none */
  uint64_t ctx;  /* device context handle for stateful ops, 0 when stateless */
  uint64_t tag;  /* opaque to the device, returned in the completion */
  uint64_t arg;  /* opcode-specific argument (UA_OP_CRC32: seed) */
};

/* Completion flags. */
enum ua_cqe_flags {
  UA_CQE_STREAM_END = 1u << 0, /* the codec reached the end of its stream */
  UA_CQE_FALLBACK = 1u << 1,   /* a device handed the work to software */
};

/*
 * Status values (struct ua_cqe.status). 0 is success; negative is failure:
 * either -errno from the device (-EFAULT for an address outside the pinned
 * region, -EINVAL for a malformed entry, -ENOMEM, -ECANCELED on teardown) or
 * UA_STATUS_CODEC, in which case `detail` holds the codec's own return code
 * (a zlib Z_* value) and the context holds the codec's message.
 */
#define UA_STATUS_CODEC (-4096)

/* Completion queue entry: 32 bytes. */
struct ua_cqe {
  uint64_t tag;
  int32_t status;
  uint32_t flags;    /* enum ua_cqe_flags */
  uint32_t produced; /* bytes written to dst */
  uint32_t consumed; /* bytes read from src */
  uint32_t check;    /* running checksum for block and checksum ops */
  int32_t detail;    /* codec return code when status == UA_STATUS_CODEC */
};

#ifdef __cplusplus
static_assert(sizeof(struct ua_sqe) == 64, "ua_sqe is 64 bytes");
static_assert(sizeof(struct ua_cqe) == 32, "ua_cqe is 32 bytes");
#endif

#endif
