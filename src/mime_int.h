/*
 * mime_int — private to src/mime*.c: record byte access, the render-and-skip
 * output sink, header field and token scanning shared by parse, render,
 * section and search.
 */
#ifndef POSTNOOK_MIME_INT_H
#define POSTNOOK_MIME_INT_H

#include <stddef.h>
#include <stdint.h>

#include "mime.h"

/* --- record byte access (big-endian) ---------------------------------- */

static inline void mime_put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static inline void mime_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline unsigned mime_get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static inline uint32_t mime_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The envelope value pairs of message entity i, or NULL (checked record). */
const unsigned char *mime_rec_env(const void *rec, unsigned i);

/* --- render-and-skip output ------------------------------------------- */

/* Writes bytes [skip, skip + room) of everything put through it into buf. */
struct mime_out {
	char *buf;
	size_t room, n;         /* capacity of buf, bytes written */
	uint64_t skip, pos;     /* first wanted byte; bytes produced so far */
};

void mime_out_init(struct mime_out *o, uint64_t off, char *buf, size_t room);
void mime_out_put(struct mime_out *o, const char *p, size_t len);
void mime_out_str(struct mime_out *o, const char *s);
void mime_out_num(struct mime_out *o, uint64_t v);

/*
 * String transforms: how a byte range of the message becomes the content of
 * an IMAP string. Each is run twice (measure, then emit) through a byte
 * callback.
 */
enum {
	MIME_XF_RAW,            /* bytes as they are (NUL dropped) */
	MIME_XF_UNFOLD,         /* header value: CR and LF dropped, ends trimmed */
	MIME_XF_VALUE,          /* parameter value: a quoted-string unquoted, else as is */
	MIME_XF_PHRASE,         /* display name: words joined by one space, quotes and comments gone */
	MIME_XF_ATOMS,          /* local part / domain: everything but white space and comments */
	MIME_XF_COMMENT,        /* a "(comment)": its content, unescaped */
	MIME_XF_HUMAN,          /* a subject: unfolded, every run of white space one space, ends trimmed */
};

/* A string generator: calls put for each byte of the string (run twice: measure, emit). */
typedef void (*mime_gen_fn)(void *arg, void (*put)(void *ctx, unsigned char c), void *ctx);
/* What gen produces as an IMAP string (quoted, or a literal for 8-bit or CR/LF). */
void mime_out_gen(struct mime_out *o, mime_gen_fn gen, void *arg);
/* Put msg[off, off+len) through transform xf as an IMAP string (quoted or literal). */
void mime_out_string(struct mime_out *o, const char *msg, uint32_t off, uint32_t len, int xf);
/* Same, or NIL when off is MIME_ABSENT. */
void mime_out_nstring(struct mime_out *o, const char *msg, uint32_t off, uint32_t len, int xf);
/* Run transform xf over p[0..len), calling put for every output byte. */
void mime_xf_run(const char *p, size_t len, int xf, void (*put)(void *ctx, unsigned char c), void *ctx);

/*
 * Parameters of a Content-Type or Content-Disposition value at msg[off,
 * off+len) as "(" name value ... ")" or NIL (mime_param.c); text adds the
 * default charset when there is none.
 */
void mime_out_params(struct mime_out *o, const char *msg, uint32_t off, uint32_t len, int text);

/*
 * The address list msg[off, off+len) as SEARCH sees it: "Name <mailbox@host>",
 * "mailbox@host", groups as "name: ...;", ", " between, through put one
 * address at a time (mime_env.c). At most MIME_ADDRS_MAX addresses.
 */
void mime_addr_text(const char *msg, uint32_t off, uint32_t len, void (*put)(void *ctx, const char *p, size_t n),
                    void *ctx);

/* ENVELOPE of message entity ent (mime_env.c). */
void mime_out_envelope(struct mime_out *o, const void *rec, unsigned ent, const char *msg);

/* --- header scanning ---------------------------------------------------- */

/* One header field: whole bytes [off, off+len) (with its line end), name, value. */
struct mime_field {
	uint32_t off, len;
	uint32_t name_off, name_len;
	uint32_t val_off, val_len;      /* after the colon: leading WSP skipped, final line end cut */
};

/*
 * Next item of the header that ends at end, starting at *pos: 1 for a
 * field (*f filled), 2 for a line that is no field (with its continuation
 * lines; only f->off and f->len set, name_len 0), 0 at the blank line or
 * end. *pos advances past the item.
 */
int mime_field_next(const char *msg, uint32_t *pos, uint32_t end, struct mime_field *f);
/* Where field scanning of the header at [off, off+len) stops: MIME_HEADER_SCAN_MAX bytes in. */
static inline uint32_t mime_scan_end(uint32_t off, uint32_t len)
{
	return len > MIME_HEADER_SCAN_MAX ? off + MIME_HEADER_SCAN_MAX : off + len;
}
/* Position of the blank line that ends the header starting at pos (or end). */
uint32_t mime_header_end(const char *msg, uint32_t pos, uint32_t end);
/* Case-insensitive compare of msg[off, off+len) with name (nlen bytes). */
int mime_name_eq(const char *msg, uint32_t off, uint32_t len, const char *name, size_t nlen);
/* Position after white space, folds and (nested) comments from pos, before end. */
uint32_t mime_skip_cfws(const char *msg, uint32_t pos, uint32_t end);
/* An RFC 2045 token at pos: its end (pos when none). */
uint32_t mime_token_end(const char *msg, uint32_t pos, uint32_t end);
/* A quoted-string at pos (msg[pos] == '"'): position after the closing quote (or end). */
uint32_t mime_quoted_end(const char *msg, uint32_t pos, uint32_t end);
/* A comment at pos (msg[pos] == '('): position after its closing paren (or end). */
uint32_t mime_comment_end(const char *msg, uint32_t pos, uint32_t end);

/*
 * Content-Type / Content-Disposition parameters: the next "; name=value"
 * from *pos (before end). 1 with name and value ranges (value as written,
 * quotes included), or 0 when there are no more. Malformed parameters are
 * skipped up to the next ';'.
 */
int mime_param_next(const char *msg, uint32_t *pos, uint32_t end, uint32_t *name_off,
                    uint32_t *name_len, uint32_t *val_off, uint32_t *val_len);
/* Find parameter name in the parameters from pos to end; 1 and the value range, or 0. */
int mime_param_find(const char *msg, uint32_t pos, uint32_t end, const char *name,
                    uint32_t *val_off, uint32_t *val_len);
/* Where the parameters of a Content-Type value start (after type/subtype), or of a disposition. */
uint32_t mime_params_start(const char *msg, uint32_t off, uint32_t len);

/* ASCII lower case. */
static inline int mime_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

#endif
