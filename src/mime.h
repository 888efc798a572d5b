/*
 * mime — the MIME structure of a message, parsed once, for IMAP FETCH and SEARCH.
 *
 * mime_parse() walks a whole message (CRLF line ends, as stored) once and
 * writes a compact structure record: byte offsets and lengths of every
 * entity's header and body, the offsets of the header values that
 * BODYSTRUCTURE and ENVELOPE need, encodings, sizes and line counts, for
 * the tree of parts through multipart/... and message/rfc822. The store keeps
 * the record next to the blob ("mime" database, see store_mime.c); FETCH
 * then renders from the record plus the message bytes without parsing the
 * message again.
 *
 * Everything works on memory the caller provides: the record buffer, the
 * message bytes (contiguous; in the daemon they are the LMDB map, valid for
 * one read txn) and the output buffer. Nothing here allocates.
 *
 * Malformed MIME is never an error: a record is always produced, and what
 * cannot be understood is served as RFC 3501 and RFC 2045 ask (text/plain;
 * charset=us-ascii, 7bit; a multipart without a usable boundary or without
 * any delimiter is one text/plain leaf; a missing end boundary ends the
 * multipart at the end of its parent). Bare LF line ends are accepted too.
 *
 * Rendering is "render-and-skip": mime_render() and mime_sect_render()
 * produce the full IMAP text of their item but write only bytes
 * [off, off + room) of it into buf, set *n to the bytes written and *total
 * to the length of the whole rendering. A caller with a small output queue calls again with
 * off advanced by *n until off == *total; a call with room 0 only measures
 * (for a literal's {size}). Renderings are deterministic for a given record
 * and message.
 *
 * Errors are negative errno values:
 *   -EINVAL   a bad argument, or a section spec that does not parse (BAD)
 *   -EBADMSG  the record is corrupt, of another version, or does not fit
 *             the message: re-parse with mime_parse()
 *   -ENOENT   the section names a part that does not exist
 *   -ENOSPC   the record buffer is smaller than the record (never happens
 *             with cap >= MIME_REC_MAX)
 */
#ifndef POSTNOOK_MIME_H
#define POSTNOOK_MIME_H

#include <stddef.h>
#include <stdint.h>

/* --- limits (each bounds work or memory; what happens past it is documented) --- */

/*
 * Nesting of multipart/... and message/rfc822 entities below the message.
 * An entity deeper than this is not split: a multipart or message/rfc822
 * there is served as a text/plain leaf holding its raw body.
 */
#define MIME_DEPTH_MAX 10
/*
 * Entities (tree nodes: the message, every part, every encapsulated
 * message) in one record: a MIME digest of 60 messages fits. Parts beyond
 * it are not listed; their bytes stay inside their parent's body
 * (BODY[TEXT] still has them). Each costs 108 bytes of record (plus 84 for
 * a message) and as much parser stack.
 */
#define MIME_PARTS_MAX 128
/*
 * Header lines (fields, or lines that are no field) scanned in one header
 * (message header or a part's MIME header). Fields after this many are
 * ignored for structure, ENVELOPE, SEARCH and HEADER.FIELDS; the header's
 * byte range still covers them all.
 */
#define MIME_FIELDS_MAX 256
/*
 * Bytes of one header examined for fields (structure, ENVELOPE, SEARCH,
 * HEADER.FIELDS): with MIME_FIELDS_MAX it bounds the work of every FETCH
 * and SEARCH on a hostile header. BODY[HEADER] still returns the whole
 * header.
 */
#define MIME_HEADER_SCAN_MAX (256 * 1024)
/* Parameters rendered from one Content-Type or Content-Disposition value. */
#define MIME_PARAMS_MAX 32
/* Longest boundary accepted (RFC 2046 allows 70; longer is treated as absent). */
#define MIME_BOUNDARY_MAX 200
/* Addresses rendered per ENVELOPE address list; the rest are dropped. */
#define MIME_ADDRS_MAX 1000
/*
 * Bytes of one address as SEARCH FROM/TO/CC/BCC sees it parsed ("Name
 * <mailbox@host>"): a longer one is cut there (the field as written is
 * still searched whole). Stack memory of one search.
 */
#define MIME_ADDR_TEXT_MAX 1024
/* Longest SEARCH needle in bytes after case folding. */
#define MIME_NEEDLE_MAX 256

/* --- the record ------------------------------------------------------ */

/*
 * Record format version (first byte). A record of another version is
 * refused with -EBADMSG and the caller re-parses; bump it whenever the
 * layout below or the parser's answer changes.
 *
 * Version 2 has the layout of version 1; the parser unfolds a folded
 * quoted boundary (version 1 found no delimiter for it, served the
 * multipart as one text/plain part and flagged MIME_RF_MALFORMED). So a
 * version 1 record without MIME_RF_MALFORMED is still right and accepted;
 * one with it is refused, re-parsed on reading, and rewritten by the store's
 * upgrade (store_mime_upgrade) without re-parsing every message.
 *
 * Layout v1 and v2, all integers big-endian:
 *   header  MIME_REC_HDR_LEN bytes: u8 version, u8 flags (MIME_RF_*),
 *           u16 entity count, u32 message length, u16 envelope count,
 *           u16 reserved
 *   entities, MIME_ENT_LEN bytes each, in depth-first order (the message
 *           first): u32 header offset, u32 header length (with the blank
 *           line), u32 body offset, u32 body length, u32 body lines,
 *           u16 parent index (0xffff for the message), u16 descendants,
 *           u8 kind (MIME_K_*), u8 encoding (MIME_ENC_*), u8 flags
 *           (MIME_EF_*), u8 depth, then MIME_FLD_COUNT (offset, length)
 *           u32 pairs of header values (MIME_FLD_*; offset 0xffffffff
 *           and length 0 when the field is absent)
 *   envelopes, MIME_ENV_LEN bytes each, one per message entity (the
 *           message and each message/rfc822 body): u16 entity index,
 *           u16 reserved, then MIME_ENVF_COUNT (offset, length) pairs of
 *           header values (MIME_ENVF_*; the first field of each name:
 *           repeated address fields such as two Cc: lines are joined when
 *           rendered, by a bounded scan of that header)
 * Offsets are absolute in the message, so a record describes exactly one
 * message (blob); they fit in u32 since messages are at most 2 GiB.
 */
#define MIME_REC_VERSION 2

/* Header value fields kept per entity (index into the entity's pairs). */
enum {
	MIME_FLD_CTYPE,         /* Content-Type value (type/subtype; params) */
	MIME_FLD_TYPE,          /* its type token, e.g. "text" */
	MIME_FLD_SUBTYPE,       /* its subtype token, e.g. "plain" */
	MIME_FLD_CTE,           /* Content-Transfer-Encoding value */
	MIME_FLD_ID,            /* Content-ID */
	MIME_FLD_DESC,          /* Content-Description */
	MIME_FLD_DISP,          /* Content-Disposition value */
	MIME_FLD_LANG,          /* Content-Language */
	MIME_FLD_LOC,           /* Content-Location */
	MIME_FLD_MD5,           /* Content-MD5 */
	MIME_FLD_COUNT
};

/* Envelope header values (RFC 3501 7.4.2 order). */
enum {
	MIME_ENVF_DATE,
	MIME_ENVF_SUBJECT,
	MIME_ENVF_FROM,
	MIME_ENVF_SENDER,
	MIME_ENVF_REPLY_TO,
	MIME_ENVF_TO,
	MIME_ENVF_CC,
	MIME_ENVF_BCC,
	MIME_ENVF_IN_REPLY_TO,
	MIME_ENVF_MESSAGE_ID,
	MIME_ENVF_COUNT
};

/* Entity kinds. */
enum {
	MIME_K_LEAF = 0,        /* a basic or text body */
	MIME_K_MULTIPART = 1,   /* multipart/...: children are its parts */
	MIME_K_MESSAGE = 2,     /* message/rfc822: one child, the encapsulated message */
};

/* Content-Transfer-Encoding. */
enum {
	MIME_ENC_7BIT = 0,      /* also the default when absent */
	MIME_ENC_8BIT,
	MIME_ENC_BINARY,
	MIME_ENC_BASE64,
	MIME_ENC_QP,
	MIME_ENC_OTHER,         /* unknown token: rendered as written, not decoded */
};

/* Entity flags. */
enum {
	MIME_EF_MSG = 1 << 0,       /* a message entity (has an envelope) */
	MIME_EF_DEFAULT = 1 << 1,   /* no usable Content-Type: served as the default type */
	MIME_EF_DIGEST = 1 << 2,    /* default type is message/rfc822 (in multipart/digest) */
	MIME_EF_FLAT = 1 << 3,      /* multipart/message not split (limits, no boundary): text/plain */
};

/* Record flags. */
enum {
	MIME_RF_LIMIT = 1 << 0,     /* a limit above was reached while parsing */
	MIME_RF_MALFORMED = 1 << 1, /* something was repaired (no end boundary, bad lines, ...) */
};

#define MIME_REC_HDR_LEN 12
#define MIME_ENT_LEN (4 * 5 + 2 + 2 + 4 + 8 * MIME_FLD_COUNT)
#define MIME_ENV_LEN (2 + 2 + 8 * MIME_ENVF_COUNT)
/* The largest record mime_parse() writes: a buffer of this size always fits. */
#define MIME_REC_MAX (MIME_REC_HDR_LEN + MIME_PARTS_MAX * (MIME_ENT_LEN + MIME_ENV_LEN))

/*
 * Parse msg[0..len) (at most 2 GiB) and write its structure record into
 * rec (cap bytes); *reclen gets the record length. 0, -EINVAL (len too
 * large, NULL arguments), or -ENOSPC when cap is too small. Never fails on
 * the content of the message.
 */
int mime_parse(const char *msg, size_t len, void *rec, size_t cap, size_t *reclen);

/*
 * Check that rec is a record of this version (or a version 1 record that
 * version 2 would write alike, see above) that fits a message of
 * msglen bytes (every range inside it, the tree consistent). 0 or -EBADMSG.
 * Every function below calls it first.
 */
int mime_rec_check(const void *rec, size_t reclen, size_t msglen);

/* Number of entities in a checked record; and flags (MIME_RF_*). */
unsigned mime_rec_count(const void *rec);
unsigned mime_rec_flags(const void *rec);

/* One entity of a record, decoded (for callers that walk the tree). */
struct mime_ent {
	uint32_t hdr_off, hdr_len;      /* the header, with its terminating blank line */
	uint32_t body_off, body_len;
	uint32_t lines;                 /* body lines (counted for every entity) */
	uint16_t parent;                /* entity index, 0xffff for the message */
	uint16_t desc;                  /* entities in its subtree below it */
	uint8_t kind, enc, flags, depth;
	uint32_t fld_off[MIME_FLD_COUNT], fld_len[MIME_FLD_COUNT]; /* off 0xffffffff: absent */
};
#define MIME_ABSENT 0xffffffffu

/* Decode entity i (0 = the message) of a checked record. 0 or -ENOENT. */
int mime_rec_ent(const void *rec, unsigned i, struct mime_ent *e);

/* --- rendering (render-and-skip, see above) -------------------------- */

/* What mime_render() produces, each exactly as after the FETCH item name. */
enum {
	MIME_R_ENVELOPE,        /* ENVELOPE of the message: "(date subject from ...)" */
	MIME_R_BODY,            /* BODY (no extension data) */
	MIME_R_BODYSTRUCTURE,   /* BODYSTRUCTURE (with extension data) */
};

/*
 * Render item what (MIME_R_*) of the message: bytes [off, off+room) into
 * buf, *n = bytes written, *total = length of the whole rendering. 0,
 * -EINVAL or -EBADMSG.
 */
int mime_render(const void *rec, size_t reclen, const char *msg, size_t msglen, int what,
                uint64_t off, char *buf, size_t room, size_t *n, uint64_t *total);

/* --- sections (BODY[section]) ----------------------------------------- */

/* What a section resolves to. */
enum {
	MIME_S_BYTES,           /* the bytes msg[off, off+len) as they are */
	MIME_S_FIELDS,          /* HEADER.FIELDS: header msg[off, off+len) filtered to the names */
	MIME_S_FIELDS_NOT,      /* HEADER.FIELDS.NOT: the header without the named fields */
};

struct mime_sect {
	int kind;               /* MIME_S_* */
	uint32_t off, len;      /* byte range in the message */
	const char *names;      /* for FIELDS(_NOT): the "(A B ...)" list inside the spec */
	size_t names_len;
};

/*
 * Resolve an IMAP section spec — the text between the brackets of
 * BODY[...], e.g. "", "1.2", "HEADER", "2.TEXT", "1.MIME",
 * "HEADER.FIELDS (From To)", "3.HEADER.FIELDS.NOT (X-Spam)" (case-
 * insensitive; names as atoms or quoted strings) — to a byte range. Part
 * numbers walk multipart children and step into message/rfc822; part 1 of
 * a non-multipart entity is that entity itself (its body). HEADER/TEXT apply to the message or
 * to a message/rfc822 part; MIME to a numbered part. 0, -EINVAL (syntax),
 * -ENOENT (no such part), -EBADMSG. out->names points into spec.
 */
int mime_section(const void *rec, size_t reclen, size_t msglen, const char *spec, size_t speclen,
                 struct mime_sect *out);

/*
 * Check only the syntax of a section spec (no message needed): 0 or
 * -EINVAL. For answering BAD while a command is parsed; mime_section()
 * reports the same syntax errors, before any missing part.
 */
int mime_section_check(const char *spec, size_t speclen);

/*
 * Render a resolved section: MIME_S_BYTES copies the range, the FIELDS
 * kinds copy the matching header fields (whole, folded lines included) and
 * a final blank line. Render-and-skip like mime_render(). 0, -EINVAL.
 */
int mime_sect_render(const struct mime_sect *s, const char *msg, size_t msglen,
                     uint64_t off, char *buf, size_t room, size_t *n, uint64_t *total);

/* --- SEARCH ------------------------------------------------------------ */

/*
 * A prepared needle: UTF-8 (US-ASCII is a subset) case-folded, with its
 * matcher table. Build once per SEARCH key, use for every message.
 */
struct mime_needle {
	size_t len;
	unsigned char s[MIME_NEEDLE_MAX];
	uint16_t fail[MIME_NEEDLE_MAX];
};

/* Prepare needle s[0..len). 0, or -EINVAL when it folds to more than MIME_NEEDLE_MAX bytes. */
int mime_needle_init(struct mime_needle *nd, const char *s, size_t len);

/* Where mime_search() looks. */
enum {
	MIME_IN_HEADER,         /* the message header: decoded field values (of field only, if given) */
	MIME_IN_BODY,           /* decoded text of the text parts (SEARCH BODY) */
	MIME_IN_TEXT,           /* that, every header of the message and its parts (SEARCH TEXT) */
	MIME_IN_ADDR,           /* an address field of the message header (SEARCH FROM, TO, CC, BCC) */
};

/*
 * Does the decoded text contain the needle, case-insensitively? Decodes
 * quoted-printable and base64 text parts, RFC 2047 encoded words in
 * headers, and UTF-8, US-ASCII, ISO-8859-1, ISO-8859-15 and windows-1252
 * to UTF-8 (unknown charsets are matched as bytes), streaming with bounded
 * stack memory. For MIME_IN_HEADER with field (fieldlen bytes, no colon),
 * only the values of fields of that name are searched and an empty needle
 * matches when the field exists (SEARCH HEADER, SUBJECT, ...). Header
 * values are unfolded and every run of white space in them is one space.
 * MIME_IN_ADDR (field required) searches each field of that name twice:
 * its addresses as parsed, written "Name <mailbox@host>, ..." (so
 * "user@host" is found whatever comments and spaces the header has inside
 * the address), then the value as written.
 * Returns 1 (found), 0 (not found), or -EBADMSG (-EINVAL for bad arguments).
 */
int mime_search(const void *rec, size_t reclen, const char *msg, size_t msglen, int where,
                const char *field, size_t fieldlen, const struct mime_needle *nd);

#endif
