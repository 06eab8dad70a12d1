/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: .npy headers. The header is a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 * parsed here by a small recursive-descent reader that accepts exactly
 * what numpy writes (and reads): the three keys once each, any order. */
#include "npy.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const unsigned char MAGIC[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

int npy_has_magic(const unsigned char *buf, size_t len) {
  return len >= sizeof MAGIC && memcmp(buf, MAGIC, sizeof MAGIC) == 0;
}

static int fail(int code, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(int code, char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return code;
}

/* A cursor over the header text; p never passes end. */
typedef struct {
  const char *p, *end;
} scan;

static void skip_ws(scan *s) {
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' ||
                           *s->p == '\r'))
    s->p++;
}

static int accept(scan *s, char c) {
  skip_ws(s);
  if (s->p < s->end && *s->p == c) {
    s->p++;
    return 1;
  }
  return 0;
}

/* A quoted string without escapes (numpy never writes any in these keys):
 * sets *str and *len to its contents. */
static int read_string(scan *s, const char **str, size_t *len) {
  skip_ws(s);
  if (s->p >= s->end || (*s->p != '\'' && *s->p != '"'))
    return 0;
  char q = *s->p++;
  const char *start = s->p;
  while (s->p < s->end && *s->p != q) {
    if (*s->p == '\\')
      return 0;
    s->p++;
  }
  if (s->p >= s->end)
    return 0;
  *str = start;
  *len = (size_t)(s->p - start);
  s->p++;
  return 1;
}

static int read_word(scan *s, const char *w) {
  skip_ws(s);
  size_t n = strlen(w);
  if ((size_t)(s->end - s->p) >= n && memcmp(s->p, w, n) == 0) {
    s->p += n;
    return 1;
  }
  return 0;
}

/* A non-negative decimal integer (Python may print a trailing L in very
 * old numpy versions: accepted). Returns 0 on syntax error, -1 on overflow. */
static int read_size(scan *s, size_t *v) {
  skip_ws(s);
  if (s->p >= s->end || *s->p < '0' || *s->p > '9')
    return 0;
  size_t x = 0;
  while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
    unsigned d = (unsigned)(*s->p - '0');
    if (x > (SIZE_MAX - d) / 10)
      return -1;
    x = x * 10 + d;
    s->p++;
  }
  if (s->p < s->end && *s->p == 'L')
    s->p++;
  *v = x;
  return 1;
}

static int parse_shape(scan *s, npy_header *h, char *err, size_t errlen) {
  if (!accept(s, '('))
    return fail(NPY_CORRUPT, err, errlen, "corrupt header: 'shape' is not a tuple");
  h->ndim = 0;
  for (;;) {
    if (accept(s, ')'))
      return NPY_OK;
    if (h->ndim == NPY_MAXDIMS)
      return fail(NPY_UNSUPPORTED, err, errlen,
                  "more than %d dimensions", NPY_MAXDIMS);
    size_t v;
    int r = read_size(s, &v);
    if (r < 0)
      return fail(NPY_CORRUPT, err, errlen, "corrupt header: dimension too large");
    if (r == 0)
      return fail(NPY_CORRUPT, err, errlen,
                  "corrupt header: 'shape' must hold non-negative integers");
    h->shape[h->ndim++] = v;
    if (accept(s, ','))
      continue;
    if (accept(s, ')'))
      return NPY_OK;
    return fail(NPY_CORRUPT, err, errlen, "corrupt header: bad 'shape' tuple");
  }
}

/* Map a descr string ('<f8', '>i2', '|u1', '|b1', ...) to a kind, an
 * element size and a byte order, or explain the refusal. */
static int parse_descr(const char *d, size_t n, npy_header *h, char *err,
                       size_t errlen) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.*s", (int)(n < 60 ? n : 60), d);
  /* strchr finds the terminator too: a NUL is no byte order or kind */
  if (n == 3 && d[0] && strchr("<>=|", d[0]) && d[1] && strchr("fiub", d[1]) &&
      d[2] >= '1' && d[2] <= '8') {
    size_t size = (size_t)(d[2] - '0');
    char kind = d[1];
    int ok = kind == 'f'   ? size == 4 || size == 8
             : kind == 'b' ? size == 1
                           : size == 1 || size == 2 || size == 4 || size == 8;
    if (ok) {
      h->kind = kind;
      h->elem_size = size;
      /* '=' and '|' are native order: little-endian on every host this
       * tool builds for; one byte has no order. */
      h->swap = d[0] == '>' && size > 1;
      return NPY_OK;
    }
  }
  return fail(NPY_UNSUPPORTED, err, errlen,
              "dtype '%s' is not supported (float32, float64, integers and "
              "booleans only)", buf);
}

int npy_parse(const unsigned char *buf, size_t len, npy_header *h, char *err,
              size_t errlen) {
  memset(h, 0, sizeof *h);
  if (len < sizeof MAGIC) {
    if (memcmp(buf, MAGIC, len) == 0)
      return fail(NPY_CORRUPT, err, errlen, "truncated header (%zu bytes)", len);
    return fail(NPY_CORRUPT, err, errlen,
                "not a .npy file (bad magic); use --dtype for raw binary");
  }
  if (!npy_has_magic(buf, len))
    return fail(NPY_CORRUPT, err, errlen,
                "not a .npy file (bad magic); use --dtype for raw binary");
  if (len < 8)
    return fail(NPY_CORRUPT, err, errlen, "truncated header (%zu bytes)", len);
  unsigned major = buf[6], minor = buf[7];
  size_t start, hlen;
  if (major == 1) {
    if (len < 10)
      return fail(NPY_CORRUPT, err, errlen, "truncated header (%zu bytes)", len);
    hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
    start = 10;
  } else if (major == 2 || major == 3) {
    if (len < 12)
      return fail(NPY_CORRUPT, err, errlen, "truncated header (%zu bytes)", len);
    hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
           (size_t)buf[11] << 24;
    start = 12;
  } else {
    return fail(NPY_UNSUPPORTED, err, errlen,
                ".npy format version %u.%u is not supported (1.0, 2.0, 3.0)",
                major, minor);
  }
  if (hlen > len - start)
    return fail(NPY_CORRUPT, err, errlen,
                "truncated header: it declares %zu bytes, the file has %zu after "
                "the preamble", hlen, len - start);

  scan s = {(const char *)buf + start, (const char *)buf + start + hlen};
  int have_descr = 0, have_fortran = 0, have_shape = 0, fortran = 0, rc;
  if (!accept(&s, '{'))
    return fail(NPY_CORRUPT, err, errlen, "corrupt header: not a dict literal");
  for (;;) {
    if (accept(&s, '}'))
      break;
    const char *key, *val;
    size_t klen, vlen;
    if (!read_string(&s, &key, &klen) || !accept(&s, ':'))
      return fail(NPY_CORRUPT, err, errlen, "corrupt header: expected 'key':");
    if (klen == 5 && memcmp(key, "descr", 5) == 0 && !have_descr) {
      have_descr = 1;
      skip_ws(&s);
      if (s.p < s.end && *s.p == '[')
        return fail(NPY_UNSUPPORTED, err, errlen,
                    "structured dtype is not supported (float32, float64, "
                    "integers and booleans only)");
      if (!read_string(&s, &val, &vlen))
        return fail(NPY_CORRUPT, err, errlen, "corrupt header: bad 'descr'");
      if ((rc = parse_descr(val, vlen, h, err, errlen)) != NPY_OK)
        return rc;
    } else if (klen == 13 && memcmp(key, "fortran_order", 13) == 0 &&
               !have_fortran) {
      have_fortran = 1;
      if (read_word(&s, "True"))
        fortran = 1;
      else if (!read_word(&s, "False"))
        return fail(NPY_CORRUPT, err, errlen,
                    "corrupt header: 'fortran_order' must be True or False");
    } else if (klen == 5 && memcmp(key, "shape", 5) == 0 && !have_shape) {
      have_shape = 1;
      if ((rc = parse_shape(&s, h, err, errlen)) != NPY_OK)
        return rc;
    } else {
      return fail(NPY_CORRUPT, err, errlen,
                  "corrupt header: unexpected or repeated key '%.*s'",
                  (int)(klen < 40 ? klen : 40), key);
    }
    if (!accept(&s, ',')) {
      if (accept(&s, '}'))
        break;
      return fail(NPY_CORRUPT, err, errlen, "corrupt header: expected ',' or '}'");
    }
  }
  skip_ws(&s);
  /* numpy reads the header as Python source, which may not hold a NUL byte
   * anywhere: padding is spaces and one final newline only. */
  if (s.p != s.end)
    return fail(NPY_CORRUPT, err, errlen, "corrupt header: %s after the dict",
                *s.p == '\0' ? "a NUL byte" : "text");
  if (!have_descr || !have_fortran || !have_shape)
    return fail(NPY_CORRUPT, err, errlen,
                "corrupt header: missing key '%s'",
                !have_descr ? "descr" : !have_fortran ? "fortran_order" : "shape");
  /* An elementwise transform does not care about the order: it is kept
   * in the output's header. */
  h->fortran = fortran;

  /* numpy's rule (its sizes are signed): every dimension, and the bytes of
   * the non-zero dimensions together, at most PTRDIFF_MAX, even when a zero
   * dimension makes the array empty. */
  size_t count = 1, nonzero = h->elem_size;
  for (int i = 0; i < h->ndim; i++) {
    size_t d = h->shape[i];
    if (d > PTRDIFF_MAX || (d != 0 && nonzero > PTRDIFF_MAX / d))
      return fail(NPY_CORRUPT, err, errlen, "corrupt header: shape too large");
    if (d != 0)
      nonzero *= d;
    count *= d;
  }
  h->count = count;
  h->data_offset = start + hlen;
  size_t want = count * h->elem_size, have = len - h->data_offset;
  if (have < want)
    return fail(NPY_CORRUPT, err, errlen,
                "truncated data: the header promises %zu bytes, the file has %zu",
                want, have);
  if (have > want)
    return fail(NPY_CORRUPT, err, errlen,
                "corrupt file: %zu bytes after the %zu bytes of data", have - want,
                want);
  return NPY_OK;
}

int npy_order_matters(const npy_header *h) {
  int long_dims = 0;
  for (int i = 0; i < h->ndim; i++)
    long_dims += h->shape[i] > 1;
  return long_dims >= 2;
}

size_t npy_format_header(char *buf, size_t cap, size_t elem_size, int fortran,
                         int ndim, const size_t *shape) {
  char dict[NPY_MAXDIMS * 24 + 128];
  size_t n = (size_t)snprintf(dict, sizeof dict,
                              "{'descr': '<f%zu', 'fortran_order': %s, 'shape': (",
                              elem_size, fortran ? "True" : "False");
  for (int i = 0; i < ndim; i++)
    n += (size_t)snprintf(dict + n, sizeof dict - n, i ? ", %zu" : "%zu", shape[i]);
  n += (size_t)snprintf(dict + n, sizeof dict - n, "%s), }", ndim == 1 ? "," : "");
  /* magic + version + 2-byte length + dict + padding + '\n', a multiple of 64
   * so that the data is aligned for any vector load. */
  size_t total = (10 + n + 1 + 63) / 64 * 64;
  if (total > cap || total - 10 > 65535)
    return 0;
  memcpy(buf, MAGIC, sizeof MAGIC);
  buf[6] = 1;
  buf[7] = 0;
  buf[8] = (char)((total - 10) & 0xff);
  buf[9] = (char)((total - 10) >> 8);
  memcpy(buf + 10, dict, n);
  memset(buf + 10 + n, ' ', total - 10 - n - 1);
  buf[total - 1] = '\n';
  return total;
}
