/* SPDX-License-Identifier: BSD-3-Clause */
/* Expression source -> expression graph: a tokenizer and a recursive-
 * descent parser of numexpr's syntax (include/ompbatch/expr.h), building
 * hash-consed, constant-folded nodes (src/expr_prog.h). Every error stops
 * the parse with its byte position and a one-line message. */
#define _POSIX_C_SOURCE 200809L /* newlocale, uselocale */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "expr_prog.h"
#include "kernels.h"

#define NONE UINT32_MAX

enum tok { T_END, T_NUM, T_NAME, T_OP, T_LP, T_RP, T_COMMA, T_BAD };

struct parser {
  const char *s;
  size_t len;
  const struct ompb__xvars *vars;
  struct ompb__xgraph *g;
  ompb_expr_diag *d;
  int rc;
  unsigned depth;
  /* the current token */
  enum tok t;
  size_t tpos, tlen;
  double tval;
};

/* The first error wins; returns NONE so that callers can `return fail(...)`. */
__attribute__((format(printf, 4, 5))) static uint32_t fail(struct parser *p, int rc, size_t pos,
                                                           const char *fmt, ...) {
  if (p->rc != OMPB_OK) return NONE;
  p->rc = rc;
  if (p->d) {
    p->d->pos = pos;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->d->message, sizeof p->d->message, fmt, ap);
    va_end(ap);
  }
  return NONE;
}

static uint32_t oom(struct parser *p) {
  return fail(p, OMPB_ENOMEM, p->tpos, "out of memory");
}

/* ---- numbers: strtod in the "C" locale, whatever the program's is ---- */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void make_c_locale(void) { c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0); }

static bool parse_number(const char *s, size_t len, double *out) {
  char small[128];
  char *buf = len < sizeof small ? small : ompb__malloc(len + 1); /* a long literal */
  if (!buf) return false;
  memcpy(buf, s, len);
  buf[len] = '\0';
  pthread_once(&c_locale_once, make_c_locale);
  locale_t old = c_locale ? uselocale(c_locale) : (locale_t)0;
  *out = strtod(buf, NULL);
  if (c_locale) uselocale(old);
  if (buf != small) ompb__free(buf);
  return true;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Lex the token at or after `pos` into p->t. */
static void lex(struct parser *p, size_t pos) {
  const char *s = p->s;
  while (pos < p->len && is_space(s[pos])) pos++;
  p->tpos = pos;
  p->tlen = 1;
  if (pos >= p->len) {
    p->t = T_END;
    p->tlen = 0;
    return;
  }
  char c = s[pos];
  if (is_digit(c) || (c == '.' && pos + 1 < p->len && is_digit(s[pos + 1]))) {
    size_t i = pos;
    while (i < p->len && is_digit(s[i])) i++;
    if (i < p->len && s[i] == '.') {
      i++;
      while (i < p->len && is_digit(s[i])) i++;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
      size_t j = i + 1;
      if (j < p->len && (s[j] == '+' || s[j] == '-')) j++;
      if (j >= p->len || !is_digit(s[j])) {
        p->t = T_BAD;
        p->tpos = i;
        fail(p, OMPB_EINVAL, i, "malformed number: exponent without digits");
        return;
      }
      while (j < p->len && is_digit(s[j])) j++;
      i = j;
    }
    if (i < p->len && (is_alpha(s[i]) || s[i] == '.' || is_digit(s[i]))) {
      p->t = T_BAD;
      fail(p, OMPB_EINVAL, i, "malformed number: unexpected '%c' after it", s[i]);
      return;
    }
    p->t = T_NUM;
    p->tlen = i - pos;
    if (!parse_number(s + pos, p->tlen, &p->tval)) oom(p);
    return;
  }
  if (is_alpha(c)) {
    size_t i = pos;
    while (i < p->len && (is_alpha(s[i]) || is_digit(s[i]))) i++;
    p->t = T_NAME;
    p->tlen = i - pos;
    return;
  }
  char d = pos + 1 < p->len ? s[pos + 1] : '\0';
  switch (c) {
  case '(': p->t = T_LP; return;
  case ')': p->t = T_RP; return;
  case ',': p->t = T_COMMA; return;
  case '+': case '-': case '%': case '&': case '|': case '^': case '~':
    p->t = T_OP;
    return;
  case '*': case '/': /* ** and // */
    p->t = T_OP;
    p->tlen = d == c ? 2 : 1;
    return;
  case '<': case '>':
    p->t = T_OP;
    p->tlen = d == '=' ? 2 : 1;
    return;
  case '=': case '!':
    if (d == '=') {
      p->t = T_OP;
      p->tlen = 2;
      return;
    }
    break;
  default:
    break;
  }
  p->t = T_BAD;
  if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
    fail(p, OMPB_EINVAL, pos, "unexpected character '%c'", c);
  else
    fail(p, OMPB_EINVAL, pos, "unexpected byte 0x%02x", (unsigned)(unsigned char)c);
}

static void advance(struct parser *p) { lex(p, p->tpos + p->tlen); }

/* The current token is operator `op`. */
static bool is_op(const struct parser *p, const char *op) {
  size_t n = strlen(op);
  return p->t == T_OP && p->tlen == n && memcmp(p->s + p->tpos, op, n) == 0;
}

/* ---- nodes ---- */
static uint64_t bits_of(double v) {
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  return u;
}

static uint64_t node_hash(const struct ompb__xnode *n) {
  uint64_t h = 1469598103934665603ull;
  uint64_t parts[5] = {(uint64_t)n->op | (uint64_t)n->sub << 8, n->a, n->b, n->c, bits_of(n->v)};
  for (int i = 0; i < 5; i++) {
    h ^= parts[i];
    h *= 1099511628211ull;
    h ^= h >> 29;
  }
  return h;
}

static bool node_eq(const struct ompb__xnode *x, const struct ompb__xnode *y) {
  return x->op == y->op && x->sub == y->sub && x->a == y->a && x->b == y->b && x->c == y->c &&
         bits_of(x->v) == bits_of(y->v);
}

static bool rehash(struct ompb__xgraph *g, size_t hcap) {
  uint32_t *h = ompb__calloc(hcap, sizeof *h);
  if (!h) return false;
  for (size_t i = 0; i < g->count; i++) {
    size_t k = node_hash(&g->nodes[i]) & (hcap - 1);
    while (h[k]) k = (k + 1) & (hcap - 1);
    h[k] = (uint32_t)i + 1;
  }
  ompb__free(g->hash);
  g->hash = h;
  g->hcap = hcap;
  return true;
}

/* A constant node's value, in double. */
static double cval(const struct parser *p, uint32_t id) { return p->g->nodes[id].v; }
static bool is_const(const struct parser *p, uint32_t id) {
  return p->g->nodes[id].op == OMPB__X_CONST;
}

/* The value of a node whose operands are all constants, computed with the
 * f64 kernels and operations of the active ISA: folding gives what the
 * f64 evaluation would (the f32 one then rounds the constant once). */
static double fold(const struct parser *p, const struct ompb__xnode *n) {
  const ompb__simd_table *t = ompb__simd_active();
  const ompb__expr_ops *x = ompb__expr_ops_active();
  double a = n->a != NONE ? cval(p, n->a) : 0, b = n->b != NONE ? cval(p, n->b) : 0;
  double c = n->c != NONE ? cval(p, n->c) : 0, r = 0;
  switch (n->op) {
  case OMPB__X_UN: x->un_f64[n->sub](&a, &r, 1); break;
  case OMPB__X_BIN:
    if (n->sub == OMPB__X_POW) t->f64_2[OMPB__K2_pow](&a, &b, &r, 1, NULL);
    else x->bin_f64[n->sub](&a, &b, &r, 1);
    break;
  case OMPB__X_WHERE: r = a != 0 ? b : c; break;
  case OMPB__X_TRI: x->tri_f64[n->sub](&a, &b, &c, &r, 1); break;
  case OMPB__X_K1: t->f64[n->sub](&a, &r, 1, NULL); break;
  case OMPB__X_K2: t->f64_2[n->sub](&a, &b, &r, 1, NULL); break;
  default: break;
  }
  return r;
}

static uint32_t mk(struct parser *p, uint8_t op, uint16_t sub, uint32_t a, uint32_t b, uint32_t c,
                   double v) {
  struct ompb__xgraph *g = p->g;
  struct ompb__xnode n = {op, sub, a, b, c, v};
  /* commutative operations in one order, so that CSE finds both spellings */
  if (op == OMPB__X_BIN && (sub == OMPB__EB_ADD || sub == OMPB__EB_MUL || sub == OMPB__EB_EQ ||
                            sub == OMPB__EB_NE) && n.a > n.b) {
    n.a = b;
    n.b = a;
  }
  bool operands = op != OMPB__X_CONST && op != OMPB__X_VAR && op != OMPB__X_RED;
  /* nextafter steps by an ULP of the evaluation's dtype: folded in f64,
   * the f32 evaluation would round the step away; its constants go to
   * constant blocks instead */
  bool fixed = op == OMPB__X_BIN && sub == OMPB__EB_NEXTAFTER;
  if (operands && !fixed && (a == NONE || is_const(p, a)) && (b == NONE || is_const(p, b)) &&
      (c == NONE || is_const(p, c))) {
    n = (struct ompb__xnode){OMPB__X_CONST, 0, NONE, NONE, NONE, fold(p, &n)};
  }
  if (n.op == OMPB__X_CONST && n.v == 0) n.v = signbit(n.v) ? -0.0 : 0.0;
  if ((g->count + 1) * 2 > g->hcap && !rehash(g, g->hcap ? g->hcap * 2 : 64)) return oom(p);
  size_t k = node_hash(&n) & (g->hcap - 1);
  for (; g->hash[k]; k = (k + 1) & (g->hcap - 1))
    if (node_eq(&g->nodes[g->hash[k] - 1], &n)) return g->hash[k] - 1;
  if (g->count >= OMPB_EXPR_MAX_OPS)
    return fail(p, OMPB_ERANGE, p->tpos, "more than %d operations", OMPB_EXPR_MAX_OPS);
  if (g->count == g->cap) {
    size_t cap = g->cap ? g->cap * 2 : 32;
    struct ompb__xnode *nn = ompb__realloc(g->nodes, cap * sizeof *nn);
    if (!nn) return oom(p);
    g->nodes = nn;
    g->cap = cap;
  }
  g->nodes[g->count] = n;
  g->hash[k] = (uint32_t)g->count + 1;
  return (uint32_t)g->count++;
}

/* ---- the grammar (Python's precedence, as numexpr's) ----
 *   expr    := or [cmpop or]             (no chains)
 *   or      := xor {| xor}
 *   xor     := and {^ and}
 *   and     := sum {& sum}
 *   sum     := product {(+|-) product}
 *   product := unary {(*|/|//|%) unary}
 *   unary   := (-|+|~) unary | power
 *   power   := primary [** unary]        (right-associative)
 *   primary := number | name | name ( args ) | ( expr )
 * & | ^ ~ are logical on truth values (non-zero is true, NaN too), giving
 * 1 or 0: numexpr's operators on booleans, which is what they are used
 * for (`where((x > 0) & (y < 1), a, b)`). They become comparisons and a
 * product or maximum: a & b is (a != 0) * (b != 0), a | b
 * maximum(a != 0, b != 0), a ^ b (a != 0) != (b != 0), ~a a == 0; the
 * != 0 is left out where the operand is a comparison already. */
static uint32_t parse_expr(struct parser *p);
static uint32_t parse_unary(struct parser *p);

static bool enter(struct parser *p) {
  if (++p->depth <= OMPB_EXPR_MAX_DEPTH) return true;
  fail(p, OMPB_ERANGE, p->tpos, "nested more than %d levels deep", OMPB_EXPR_MAX_DEPTH);
  return false;
}

/* The functions written with other operations (OMPB__XL_*, exact). */
static uint32_t mk_lowered(struct parser *p, unsigned which, uint32_t x) {
  uint32_t r = NONE;
  switch (which) {
  case OMPB__XL_ISNAN: return mk(p, OMPB__X_BIN, OMPB__EB_NE, x, x, NONE, 0);
  case OMPB__XL_ISINF:
  case OMPB__XL_ISFINITE: {
    uint32_t ax = mk(p, OMPB__X_K1, OMPB__K1_abs, x, NONE, NONE, 0);
    uint32_t inf = ax == NONE ? NONE : mk(p, OMPB__X_CONST, 0, NONE, NONE, NONE, INFINITY);
    if (inf != NONE)
      r = mk(p, OMPB__X_BIN, which == OMPB__XL_ISINF ? OMPB__EB_EQ : OMPB__EB_LT, ax, inf, NONE, 0);
    return r;
  }
  case OMPB__XL_SIGNBIT: {
    uint32_t one = mk(p, OMPB__X_CONST, 0, NONE, NONE, NONE, 1.0);
    uint32_t s = one == NONE ? NONE : mk(p, OMPB__X_BIN, OMPB__EB_COPYSIGN, one, x, NONE, 0);
    uint32_t zero = s == NONE ? NONE : mk(p, OMPB__X_CONST, 0, NONE, NONE, NONE, 0.0);
    return zero == NONE ? NONE : mk(p, OMPB__X_BIN, OMPB__EB_LT, s, zero, NONE, 0);
  }
  case OMPB__XL_COPY: return x;
  case OMPB__XL_ONES_LIKE: return mk(p, OMPB__X_CONST, 0, NONE, NONE, NONE, 1.0);
  default: return NONE;
  }
}

static uint32_t parse_call(struct parser *p, size_t npos, size_t nlen) {
  const struct ompb__xfunc *f = ompb__xfunc_find(p->s + npos, nlen);
  if (!f) return fail(p, OMPB_EINVAL, npos, "unknown function '%.*s'", (int)nlen, p->s + npos);
  advance(p); /* ( */
  uint32_t args[3] = {NONE, NONE, NONE};
  unsigned nargs = 0;
  if (p->t != T_RP) {
    for (;;) {
      uint32_t a = parse_expr(p);
      if (a == NONE) return NONE;
      if (nargs < 3) args[nargs] = a;
      nargs++;
      if (p->t == T_COMMA) {
        advance(p);
        continue;
      }
      break;
    }
  }
  if (p->rc != OMPB_OK) return NONE;
  if (p->t != T_RP) return fail(p, OMPB_EINVAL, p->tpos, "expected ',' or ')' in the call of '%s'",
                                f->pub.name);
  if (nargs != f->pub.nargs) {
    if (f->kind == OMPB__XF_RED && nargs == 2 && f->index != OMPB__ER_SUM)
      return fail(p, OMPB_EINVAL, npos, "'%s' is a reduction and takes 1 argument, not 2 (%s for "
                  "two arrays)", f->pub.name, f->index == OMPB__ER_MIN ? "minimum(a, b)" :
                  f->index == OMPB__ER_MAX ? "maximum(a, b)" : "a * b");
    return fail(p, OMPB_EINVAL, npos, "'%s' takes %u argument%s, not %u", f->pub.name,
                f->pub.nargs, f->pub.nargs == 1 ? "" : "s", nargs);
  }
  advance(p); /* ) */
  switch (f->kind) {
  case OMPB__XF_K1: return mk(p, OMPB__X_K1, (uint16_t)f->index, args[0], NONE, NONE, 0);
  case OMPB__XF_K2: return mk(p, OMPB__X_K2, (uint16_t)f->index, args[0], args[1], NONE, 0);
  case OMPB__XF_UN: return mk(p, OMPB__X_UN, (uint16_t)f->index, args[0], NONE, NONE, 0);
  case OMPB__XF_BIN: return mk(p, OMPB__X_BIN, (uint16_t)f->index, args[0], args[1], NONE, 0);
  case OMPB__XF_WHERE: return mk(p, OMPB__X_WHERE, 0, args[0], args[1], args[2], 0);
  case OMPB__XF_LOWER: return mk_lowered(p, f->index, args[0]);
  case OMPB__XF_RED: {
    uint32_t r = mk(p, OMPB__X_RED, (uint16_t)f->index, args[0], NONE, NONE, 0);
    if (r != NONE && p->g->nred++ == 0) p->g->red_pos = npos;
    return r;
  }
  }
  return NONE;
}

static uint32_t parse_primary(struct parser *p) {
  if (p->rc != OMPB_OK) return NONE;
  size_t pos = p->tpos, len = p->tlen;
  switch (p->t) {
  case T_NUM: {
    double v = p->tval;
    advance(p);
    return mk(p, OMPB__X_CONST, 0, NONE, NONE, NONE, v);
  }
  case T_NAME: {
    advance(p);
    if (p->t == T_LP) return parse_call(p, pos, len);
    /* Python's (numexpr's) literals, not names: before the variables */
    if ((len == 4 && memcmp(p->s + pos, "True", 4) == 0) ||
        (len == 5 && memcmp(p->s + pos, "False", 5) == 0))
      return mk(p, OMPB__X_CONST, 0, NONE, NONE, NONE, len == 4 ? 1.0 : 0.0);
    long k = ompb__xvars_find(p->vars, p->s + pos, len);
    if (k >= 0) return mk(p, OMPB__X_VAR, 0, (uint32_t)k, NONE, NONE, 0);
    if (ompb__xfunc_find(p->s + pos, len))
      return fail(p, OMPB_EINVAL, pos, "'%.*s' is a function: call it as %.*s(...)", (int)len,
                  p->s + pos, (int)len, p->s + pos);
    return fail(p, OMPB_EINVAL, pos, "unknown variable '%.*s'", (int)len, p->s + pos);
  }
  case T_LP: {
    advance(p);
    uint32_t e = parse_expr(p);
    if (e == NONE) return NONE;
    if (p->t != T_RP) return fail(p, OMPB_EINVAL, p->tpos, "expected ')' to close the '(' at %zu",
                                  pos);
    advance(p);
    return e;
  }
  case T_END: return fail(p, OMPB_EINVAL, pos, "expected an operand at the end");
  case T_BAD: return NONE;
  default:
    return fail(p, OMPB_EINVAL, pos, "expected an operand, found '%.*s'", (int)len, p->s + pos);
  }
}

static uint32_t parse_power(struct parser *p) {
  uint32_t base = parse_primary(p);
  if (base == NONE || !is_op(p, "**")) return base;
  advance(p);
  uint32_t e = parse_unary(p);
  if (e == NONE) return NONE;
  return mk(p, OMPB__X_BIN, OMPB__X_POW, base, e, NONE, 0);
}

static bool is_cmp(const struct parser *p, uint32_t id) {
  const struct ompb__xnode *n = &p->g->nodes[id];
  return n->op == OMPB__X_BIN && n->sub >= OMPB__EB_LT && n->sub <= OMPB__EB_NE;
}

/* a as a truth value, 1 or 0 (a comparison is one already). */
static uint32_t truth(struct parser *p, uint32_t a) {
  if (is_cmp(p, a)) return a;
  uint32_t zero = mk(p, OMPB__X_CONST, 0, NONE, NONE, NONE, 0);
  return zero == NONE ? NONE : mk(p, OMPB__X_BIN, OMPB__EB_NE, a, zero, NONE, 0);
}

static uint32_t parse_unary(struct parser *p) {
  if (!(is_op(p, "-") || is_op(p, "+") || is_op(p, "~"))) return parse_power(p);
  char sign = p->s[p->tpos];
  if (!enter(p)) return NONE;
  advance(p);
  uint32_t a = parse_unary(p);
  p->depth--;
  if (a == NONE || sign == '+') return a;
  if (sign == '-') return mk(p, OMPB__X_UN, OMPB__EU_NEG, a, NONE, NONE, 0);
  uint32_t zero = mk(p, OMPB__X_CONST, 0, NONE, NONE, NONE, 0); /* ~a: a == 0 */
  return zero == NONE ? NONE : mk(p, OMPB__X_BIN, OMPB__EB_EQ, a, zero, NONE, 0);
}

/* a % b, numexpr's and numpy's remainder (the divisor's sign, Python's
 * %): m = fmod(a, b) (exact), then m + b where m and b differ in sign,
 * and a zero m signed as b: m == 0 ? (b < 0 ? -0 : +0) : (m < 0) != (b < 0)
 * ? m + b : m (numpy's npy_divmod). Cheap operations after the fmod
 * kernel, fused by the compiler. */
static uint32_t mk_mod(struct parser *p, uint32_t a, uint32_t b) {
  uint32_t m = mk(p, OMPB__X_K2, OMPB__K2_fmod, a, b, NONE, 0);
  uint32_t zero = m == NONE ? NONE : mk(p, OMPB__X_CONST, 0, NONE, NONE, NONE, 0.0);
  uint32_t nzero = zero == NONE ? NONE : mk(p, OMPB__X_CONST, 0, NONE, NONE, NONE, -0.0);
  uint32_t bneg = nzero == NONE ? NONE : mk(p, OMPB__X_BIN, OMPB__EB_LT, b, zero, NONE, 0);
  uint32_t mneg = bneg == NONE ? NONE : mk(p, OMPB__X_BIN, OMPB__EB_LT, m, zero, NONE, 0);
  uint32_t flip = mneg == NONE ? NONE : mk(p, OMPB__X_BIN, OMPB__EB_NE, mneg, bneg, NONE, 0);
  uint32_t sum = flip == NONE ? NONE : mk(p, OMPB__X_BIN, OMPB__EB_ADD, m, b, NONE, 0);
  uint32_t nonzero = sum == NONE ? NONE : mk(p, OMPB__X_WHERE, 0, flip, sum, m, 0);
  uint32_t signed0 = nonzero == NONE ? NONE : mk(p, OMPB__X_WHERE, 0, bneg, nzero, zero, 0);
  uint32_t is0 = signed0 == NONE ? NONE : mk(p, OMPB__X_BIN, OMPB__EB_EQ, m, zero, NONE, 0);
  return is0 == NONE ? NONE : mk(p, OMPB__X_WHERE, 0, is0, signed0, nonzero, 0);
}

/* a // b, numpy's floor_divide on floats, bit for bit: m = fmod(a, b)
 * (the exact kernel), then the rest of numpy's npy_divmod in one cheap
 * fused operation, OMPB__ET_FLOORDIV (kernels/expr_ops.h). */
static uint32_t mk_floordiv(struct parser *p, uint32_t a, uint32_t b) {
  uint32_t m = mk(p, OMPB__X_K2, OMPB__K2_fmod, a, b, NONE, 0);
  return m == NONE ? NONE : mk(p, OMPB__X_TRI, OMPB__ET_FLOORDIV, a, b, m, 0);
}

static uint32_t parse_product(struct parser *p) {
  uint32_t a = parse_unary(p);
  while (a != NONE && (is_op(p, "*") || is_op(p, "/") || is_op(p, "//") || is_op(p, "%"))) {
    const bool floordiv = is_op(p, "//");
    char op = p->s[p->tpos];
    advance(p);
    uint32_t b = parse_unary(p);
    if (b == NONE) return NONE;
    a = floordiv ? mk_floordiv(p, a, b)
        : op == '%' ? mk_mod(p, a, b)
                    : mk(p, OMPB__X_BIN, op == '*' ? OMPB__EB_MUL : OMPB__EB_DIV, a, b, NONE, 0);
  }
  return a;
}

static uint32_t parse_sum(struct parser *p) {
  uint32_t a = parse_product(p);
  while (a != NONE && (is_op(p, "+") || is_op(p, "-"))) {
    uint16_t op = is_op(p, "+") ? OMPB__EB_ADD : OMPB__EB_SUB;
    advance(p);
    uint32_t b = parse_product(p);
    if (b == NONE) return NONE;
    a = mk(p, OMPB__X_BIN, op, a, b, NONE, 0);
  }
  return a;
}

/* One level of & ^ |: operands from `next`, combined as in the grammar's
 * comment. */
static uint32_t parse_logical(struct parser *p, const char *op, uint32_t (*next)(struct parser *)) {
  uint32_t a = next(p);
  while (a != NONE && is_op(p, op)) {
    advance(p);
    uint32_t b = next(p);
    if (b == NONE) return NONE;
    a = truth(p, a);
    b = a == NONE ? NONE : truth(p, b);
    if (b == NONE) return NONE;
    uint16_t sub = op[0] == '&' ? OMPB__EB_MUL : op[0] == '|' ? OMPB__EB_MAX : OMPB__EB_NE;
    a = mk(p, OMPB__X_BIN, sub, a, b, NONE, 0);
  }
  return a;
}
static uint32_t parse_and(struct parser *p) { return parse_logical(p, "&", parse_sum); }
static uint32_t parse_xor(struct parser *p) { return parse_logical(p, "^", parse_and); }
static uint32_t parse_or(struct parser *p) { return parse_logical(p, "|", parse_xor); }

static int cmp_op(const struct parser *p) {
  static const struct { const char *s; int op; } ops[] = {
      {"<", OMPB__EB_LT}, {"<=", OMPB__EB_LE}, {">", OMPB__EB_GT},
      {">=", OMPB__EB_GE}, {"==", OMPB__EB_EQ}, {"!=", OMPB__EB_NE}};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (is_op(p, ops[i].s)) return ops[i].op;
  return -1;
}

static uint32_t parse_expr(struct parser *p) {
  if (!enter(p)) return NONE;
  uint32_t a = parse_or(p);
  int op = a != NONE ? cmp_op(p) : -1;
  if (op >= 0) {
    advance(p);
    uint32_t b = parse_or(p);
    if (b == NONE) {
      a = NONE;
    } else if (cmp_op(p) >= 0) {
      a = fail(p, OMPB_EINVAL, p->tpos, "comparisons do not chain: write (a < b) & (b < c)");
    } else {
      a = mk(p, OMPB__X_BIN, (uint16_t)op, a, b, NONE, 0);
    }
  }
  p->depth--;
  return a;
}

int ompb__xparse(const char *src, size_t len, const struct ompb__xvars *vars,
                 struct ompb__xgraph *g, ompb_expr_diag *d) {
  struct parser p = {.s = src, .len = len, .vars = vars, .g = g, .d = d, .rc = OMPB_OK};
  lex(&p, 0);
  if (p.rc != OMPB_OK) return p.rc;
  if (p.t == T_END) {
    fail(&p, OMPB_EINVAL, p.tpos, "empty expression");
    return p.rc;
  }
  uint32_t root = parse_expr(&p);
  if (root != NONE && p.t == T_RP)
    fail(&p, OMPB_EINVAL, p.tpos, "unbalanced ')'");
  else if (root != NONE && p.t != T_END)
    fail(&p, OMPB_EINVAL, p.tpos, "unexpected '%.*s' after the expression", (int)p.tlen,
         src + p.tpos);
  if (p.rc != OMPB_OK) return p.rc;
  if (g->nred > 0 && (g->nred > 1 || g->nodes[root].op != OMPB__X_RED)) {
    size_t n = 0;
    while (is_alpha(src[g->red_pos + n]) || is_digit(src[g->red_pos + n])) n++;
    fail(&p, OMPB_EINVAL, g->red_pos, "'%.*s' is a reduction: it must be the outermost call",
         (int)n, src + g->red_pos);
  }
  g->root = root;
  return p.rc;
}

void ompb__xgraph_free(struct ompb__xgraph *g) {
  ompb__free(g->nodes);
  ompb__free(g->hash);
  g->nodes = NULL;
  g->hash = NULL;
}
