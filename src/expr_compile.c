/* SPDX-License-Identifier: BSD-3-Clause */
/* Expression graph -> register program (src/expr_prog.h), and the public
 * compile/free/query calls.
 *
 * Lowering turns operations with a constant operand into a kernel call
 * with that constant as its parameter (`x*2.5` is scale, `x+1` add_scalar,
 * `1-x` and `2*x+1` affine, `x**2` a multiplication, `x**0.5` sqrt as in
 * numpy, `x**p` pow with p; sqrt is the ISA's square root instruction,
 * OMPB__EU_SQRT), and a product used once and then added or
 * subtracted into one fused multiply-add. The remaining constants become
 * constant blocks. Scheduling visits operands in Sethi-Ullman order (the
 * operand needing more blocks first), and blocks are reused as soon as
 * their value's last use has run, so a program needs few blocks of
 * scratch: an expression tree of n operations at most about log2(n). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "expr_prog.h"
#include "kernels.h"

#define NONE UINT32_MAX
/* Scratch blocks (temporaries and constants) of one program, at most:
 * each is a block per worker (src/work_expr.c). */
#define MAX_BLOCKS 4096

/* ---- variable names ---- */
struct ompb__xvars {
  const char *const *names;
  size_t n;
  uint32_t *hash; /* index + 1, 0 empty */
  size_t hcap;
};

static uint64_t name_hash(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

long ompb__xvars_find(const struct ompb__xvars *v, const char *name, size_t len) {
  if (v->hcap == 0) return -1;
  for (size_t k = name_hash(name, len) & (v->hcap - 1); v->hash[k]; k = (k + 1) & (v->hcap - 1)) {
    const char *s = v->names[v->hash[k] - 1];
    if (strncmp(s, name, len) == 0 && s[len] == '\0') return (long)v->hash[k] - 1;
  }
  return -1;
}

static bool valid_name(const char *s) {
  if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          *s == '_'))
      return false;
  return true;
}

/* The name in a message: its first 100 bytes, any byte outside printable
 * ASCII shown as '?', so that the message stays one line. */
static void diag(ompb_expr_diag *d, size_t pos, const char *fmt, const char *arg, size_t k) {
  if (!d) return;
  char shown[101];
  size_t i = 0;
  for (; arg && arg[i] && i < 100; i++) shown[i] = arg[i] >= 0x20 && arg[i] < 0x7f ? arg[i] : '?';
  shown[i] = '\0';
  d->pos = pos;
  snprintf(d->message, sizeof d->message, fmt, k, arg ? shown : "(null)");
}

/* Fills v; OMPB_OK, OMPB_EINVAL (bad or duplicate name, diag) or OMPB_ENOMEM. */
static int vars_init(struct ompb__xvars *v, const char *const *names, size_t n, ompb_expr_diag *d) {
  v->names = names;
  v->n = n;
  v->hcap = 0;
  v->hash = NULL;
  if (n == 0) return OMPB_OK;
  size_t cap = 16;
  while (cap < 2 * n) cap *= 2;
  v->hash = ompb__calloc(cap, sizeof *v->hash);
  if (!v->hash) return OMPB_ENOMEM;
  v->hcap = cap;
  for (size_t i = 0; i < n; i++) {
    if (!valid_name(names[i])) {
      diag(d, 0, "variable %zu ('%s') is not a valid name", names[i], i);
      return OMPB_EINVAL;
    }
    size_t len = strlen(names[i]);
    if (ompb__xvars_find(v, names[i], len) >= 0) {
      diag(d, 0, "variable %zu ('%s') is named twice", names[i], i);
      return OMPB_EINVAL;
    }
    size_t k = name_hash(names[i], len) & (cap - 1);
    while (v->hash[k]) k = (k + 1) & (cap - 1);
    v->hash[k] = (uint32_t)i + 1;
  }
  return OMPB_OK;
}

/* ---- lowered nodes ---- */
enum { L_IN = 100, L_CONST = 101 };

struct lnode {
  uint8_t kind; /* L_IN, L_CONST or an OMPB__XI_* */
  bool has_params;
  uint16_t op;
  uint32_t a, b, c;
  uint32_t d;   /* OMPB__XI_SEL only (other kinds leave it unset) */
  double p[2];
  double v;     /* L_CONST */
  uint32_t var; /* L_IN */
};

struct lower {
  const struct ompb__xgraph *g;
  uint32_t *uses; /* parents of each graph node */
  uint32_t *lo;   /* graph node -> lowered node */
  struct lnode *l;
  size_t nl, cap;
  int rc;
};

static uint32_t ladd(struct lower *w, struct lnode n) {
  if (w->rc != OMPB_OK) return NONE;
  if (w->nl == w->cap) {
    size_t cap = w->cap ? 2 * w->cap : 64;
    struct lnode *l = ompb__realloc(w->l, cap * sizeof *l);
    if (!l) {
      w->rc = OMPB_ENOMEM;
      return NONE;
    }
    w->l = l;
    w->cap = cap;
  }
  w->l[w->nl] = n;
  return (uint32_t)w->nl++;
}

static uint32_t lconst(struct lower *w, double v) {
  return ladd(w, (struct lnode){.kind = L_CONST, .a = NONE, .b = NONE, .c = NONE, .v = v});
}
static uint32_t lop(struct lower *w, uint8_t kind, uint16_t op, uint32_t a, uint32_t b, uint32_t c) {
  return ladd(w, (struct lnode){.kind = kind, .op = op, .a = a, .b = b, .c = c});
}
static uint32_t lk1p(struct lower *w, unsigned k, uint32_t a, double p0, double p1) {
  return ladd(w, (struct lnode){.kind = OMPB__XI_K1, .op = (uint16_t)k, .a = a, .b = NONE,
                                .c = NONE, .has_params = true, .p = {p0, p1}});
}

static const struct ompb__xnode *gn(const struct lower *w, uint32_t id) { return &w->g->nodes[id]; }
static bool gconst(const struct lower *w, uint32_t id) { return gn(w, id)->op == OMPB__X_CONST; }
/* A product that nothing else uses: it may be fused into its parent. */
static bool fusable_mul(const struct lower *w, uint32_t id) {
  const struct ompb__xnode *n = gn(w, id);
  return n->op == OMPB__X_BIN && n->sub == OMPB__EB_MUL && w->uses[id] == 1;
}
/* x * s with a constant s: *x and *s, true. */
static bool scaled(const struct lower *w, uint32_t id, uint32_t *x, double *s) {
  if (!fusable_mul(w, id)) return false;
  const struct ompb__xnode *n = gn(w, id);
  if (gconst(w, n->b)) {
    *x = n->a;
    *s = gn(w, n->b)->v;
    return true;
  }
  if (gconst(w, n->a)) {
    *x = n->b;
    *s = gn(w, n->a)->v;
    return true;
  }
  return false;
}

/* 1/c is exact in float and double: c a power of two with c and 1/c
 * normal floats. */
static bool exact_reciprocal(double c) {
  int e;
  double m = frexp(c, &e);
  return isfinite(c) && fabs(m) == 0.5 && e >= -124 && e <= 126;
}

static uint32_t lower_bin(struct lower *w, const struct ompb__xnode *h) {
  const uint32_t a = h->a, b = h->b;
#define LO(id) (w->lo[id])
  uint32_t x;
  double s;
  switch (h->sub) {
  case OMPB__EB_ADD:
    if (gconst(w, a) || gconst(w, b)) {
      uint32_t y = gconst(w, b) ? a : b;
      double c = gn(w, gconst(w, b) ? b : a)->v;
      if (scaled(w, y, &x, &s)) return lk1p(w, OMPB__K1_affine, LO(x), s, c);
      return lk1p(w, OMPB__K1_add_scalar, LO(y), c, 0);
    }
    if (fusable_mul(w, a)) return lop(w, OMPB__XI_TRI, OMPB__ET_FMA, LO(gn(w, a)->a), LO(gn(w, a)->b), LO(b));
    if (fusable_mul(w, b)) return lop(w, OMPB__XI_TRI, OMPB__ET_FMA, LO(gn(w, b)->a), LO(gn(w, b)->b), LO(a));
    break;
  case OMPB__EB_SUB:
    if (gconst(w, b)) {
      double c = gn(w, b)->v;
      if (scaled(w, a, &x, &s)) return lk1p(w, OMPB__K1_affine, LO(x), s, -c);
      return lk1p(w, OMPB__K1_add_scalar, LO(a), -c, 0);
    }
    if (gconst(w, a)) {
      double c = gn(w, a)->v;
      if (scaled(w, b, &x, &s)) return lk1p(w, OMPB__K1_affine, LO(x), -s, c);
      return lk1p(w, OMPB__K1_affine, LO(b), -1, c);
    }
    if (fusable_mul(w, a)) return lop(w, OMPB__XI_TRI, OMPB__ET_FMS, LO(gn(w, a)->a), LO(gn(w, a)->b), LO(b));
    if (fusable_mul(w, b)) return lop(w, OMPB__XI_TRI, OMPB__ET_FNMA, LO(gn(w, b)->a), LO(gn(w, b)->b), LO(a));
    break;
  case OMPB__EB_MUL:
    /* (-x) * y, the way Python reads -x*y: one exact operation */
    if (gn(w, a)->op == OMPB__X_UN && gn(w, a)->sub == OMPB__EU_NEG && w->uses[a] == 1 &&
        !gconst(w, b))
      return lop(w, OMPB__XI_BIN, OMPB__EB_NMUL, LO(gn(w, a)->a), LO(b), NONE);
    if (gn(w, b)->op == OMPB__X_UN && gn(w, b)->sub == OMPB__EU_NEG && w->uses[b] == 1 &&
        !gconst(w, a))
      return lop(w, OMPB__XI_BIN, OMPB__EB_NMUL, LO(a), LO(gn(w, b)->a), NONE);
    if (gconst(w, b)) return lk1p(w, OMPB__K1_scale, LO(a), gn(w, b)->v, 0);
    if (gconst(w, a)) return lk1p(w, OMPB__K1_scale, LO(b), gn(w, a)->v, 0);
    break;
  case OMPB__EB_DIV:
    if (gconst(w, b) && exact_reciprocal(gn(w, b)->v))
      return lk1p(w, OMPB__K1_scale, LO(a), 1 / gn(w, b)->v, 0);
    break;
  case OMPB__X_POW:
    if (gconst(w, b)) {
      double e = gn(w, b)->v;
      uint32_t la = LO(a);
      if (e == 0) return lconst(w, 1);
      if (e == 1) return la;
      if (e == 2) return lop(w, OMPB__XI_BIN, OMPB__EB_MUL, la, la, NONE);
      if (e == 3) return lop(w, OMPB__XI_BIN, OMPB__EB_MUL, lop(w, OMPB__XI_BIN, OMPB__EB_MUL, la, la, NONE), la, NONE);
      if (e == -1) return lop(w, OMPB__XI_BIN, OMPB__EB_DIV, lconst(w, 1), la, NONE);
      if (e == -2) return lop(w, OMPB__XI_BIN, OMPB__EB_DIV, lconst(w, 1), lop(w, OMPB__XI_BIN, OMPB__EB_MUL, la, la, NONE), NONE);
      if (e == 0.5) return lop(w, OMPB__XI_UN, OMPB__EU_SQRT, la, NONE, NONE);
      return lk1p(w, OMPB__K1_pow, la, e, 0);
    }
    return lop(w, OMPB__XI_K2, OMPB__K2_pow, LO(a), LO(b), NONE);
  default:
    break;
  }
  return lop(w, OMPB__XI_BIN, h->sub, LO(a), LO(b), NONE);
#undef LO
}

static uint32_t lower_node(struct lower *w, uint32_t id) {
  const struct ompb__xnode *h = gn(w, id);
  switch (h->op) {
  case OMPB__X_CONST: return lconst(w, h->v);
  case OMPB__X_VAR:
    return ladd(w, (struct lnode){.kind = L_IN, .a = NONE, .b = NONE, .c = NONE, .var = h->a});
  case OMPB__X_UN:
    if (h->sub == OMPB__EU_NEG && fusable_mul(w, h->a)) {
      uint32_t x;
      double s;
      if (scaled(w, h->a, &x, &s)) return lk1p(w, OMPB__K1_scale, w->lo[x], -s, 0);
      const struct ompb__xnode *m = gn(w, h->a);
      return lop(w, OMPB__XI_BIN, OMPB__EB_NMUL, w->lo[m->a], w->lo[m->b], NONE);
    }
    return lop(w, OMPB__XI_UN, h->sub, w->lo[h->a], NONE, NONE);
  case OMPB__X_BIN: return lower_bin(w, h);
  case OMPB__X_WHERE: {
    /* where(a CMP b, t, e) with the comparison used only here: one select
     * of four inputs (and where(.., t, -e): the select negates e) */
    const struct ompb__xnode *c = gn(w, h->a);
    if (c->op == OMPB__X_BIN && c->sub >= OMPB__EB_LT && c->sub <= OMPB__EB_NE &&
        w->uses[h->a] == 1) {
      uint32_t e = h->c;
      unsigned op = c->sub - OMPB__EB_LT;
      const struct ompb__xnode *en = gn(w, e);
      if (en->op == OMPB__X_UN && en->sub == OMPB__EU_NEG && w->uses[e] == 1 && e != h->b) {
        op += OMPB__ES_NEG;
        e = en->a;
      }
      return ladd(w, (struct lnode){.kind = OMPB__XI_SEL, .op = (uint16_t)op, .a = w->lo[c->a],
                                    .b = w->lo[c->b], .c = w->lo[h->b], .d = w->lo[e]});
    }
    return lop(w, OMPB__XI_TRI, OMPB__ET_WHERE, w->lo[h->a], w->lo[h->b], w->lo[h->c]);
  }
  case OMPB__X_K1:
    /* sqrt: the ISA's instruction (correctly rounded like the kernel) */
    if (h->sub == OMPB__K1_sqrt) return lop(w, OMPB__XI_UN, OMPB__EU_SQRT, w->lo[h->a], NONE, NONE);
    return lop(w, OMPB__XI_K1, h->sub, w->lo[h->a], NONE, NONE);
  case OMPB__X_K2: return lop(w, OMPB__XI_K2, h->sub, w->lo[h->a], w->lo[h->b], NONE);
  case OMPB__X_TRI: return lop(w, OMPB__XI_TRI, h->sub, w->lo[h->a], w->lo[h->b], w->lo[h->c]);
  case OMPB__X_RED: return w->lo[h->a];
  }
  return NONE;
}

/* ---- scheduling and blocks ---- */
static bool leaf(const struct lnode *n) { return n->kind == L_IN || n->kind == L_CONST; }

struct sched {
  struct lnode *l;
  size_t nl;
  uint32_t *need;    /* Sethi-Ullman: blocks needed to compute a node */
  uint32_t *order;   /* computed nodes in emission order */
  size_t norder;
  uint32_t *last;    /* last instruction index reading each node */
  uint32_t *slot;    /* the node's slot in the program */
};

static unsigned nops(const struct lnode *n) {
  if (n->kind == OMPB__XI_SEL) return 4;
  return n->a == NONE ? 0 : n->b == NONE ? 1 : n->c == NONE ? 2 : 3;
}
static uint32_t operand(const struct lnode *n, unsigned k) {
  return k == 0 ? n->a : k == 1 ? n->b : k == 2 ? n->c : n->d;
}

static void compute_need(struct sched *s) {
  for (size_t i = 0; i < s->nl; i++) {
    const struct lnode *n = &s->l[i];
    if (leaf(n)) {
      s->need[i] = 0;
      continue;
    }
    uint32_t hi = 0, ties = 0;
    for (unsigned k = 0; k < nops(n); k++) {
      uint32_t q = s->need[operand(n, k)];
      if (q > hi) hi = q, ties = 0;
      else if (q == hi && q > 0) ties++;
    }
    s->need[i] = hi + ties > 0 ? hi + ties : 1;
  }
}

/* The order of a node's operands: the neediest first; of the root's
 * operands that need as many blocks, a kernel of a computed value last.
 * The program then ends in that kernel and the root, which run as one
 * kernel (its nt_sel_ form, src/work_expr.c) streaming out from the
 * cache, while its first instructions read the inputs: E1, 2*sin(x) +
 * exp(-x*x), runs sin(x), -x*x, exp and the multiply-add in exp's
 * stores rather than -x*x, exp, sin and the multiply-add in sin's
 * (docs/design.md "Expressions: a kernel and its select"). Visited
 * last means a lower key (the operands are pushed in key order). */
static uint32_t visit_key(const struct sched *s, uint32_t id, bool root) {
  const struct lnode *n = &s->l[id];
  bool computed_kernel = n->kind == OMPB__XI_K1 && !leaf(&s->l[n->a]);
  return 2 * s->need[id] + (root && !computed_kernel);
}

/* Post-order from the root, operands in visit_key order; iterative (an
 * expression may be 100,000 operations deep). Returns false when out of
 * memory. */
static bool emit_order(struct sched *s, uint32_t root) {
  unsigned char *state = ompb__calloc(s->nl, 1); /* 0 new, 1 open, 2 done */
  /* A node is pushed once per edge from a parent that meets it unvisited
   * (a shared one may be on the stack several times): at most one entry
   * per operand of every node, 4 for a select. */
  uint32_t *stack = ompb__malloc((4 * s->nl + 1) * sizeof *stack);
  if (!state || !stack) {
    ompb__free(state);
    ompb__free(stack);
    return false;
  }
  size_t top = 0;
  stack[top++] = root;
  while (top > 0) {
    uint32_t id = stack[top - 1];
    const struct lnode *n = &s->l[id];
    if (state[id] == 2 || leaf(n)) {
      state[id] = 2;
      top--;
      continue;
    }
    if (state[id] == 1) {
      state[id] = 2;
      s->order[s->norder++] = id;
      top--;
      continue;
    }
    state[id] = 1;
    /* push operands so that the highest key is visited first (pushed last) */
    uint32_t ops[4], key[4];
    unsigned k = nops(n);
    for (unsigned i = 0; i < k; i++) {
      ops[i] = operand(n, i);
      key[i] = visit_key(s, ops[i], id == root);
    }
    for (unsigned i = 0; i < k; i++)
      for (unsigned j = i + 1; j < k; j++)
        if (key[j] < key[i]) {
          uint32_t kt = key[i];
          key[i] = key[j];
          key[j] = kt;
          uint32_t t = ops[i];
          ops[i] = ops[j];
          ops[j] = t;
        }
    for (unsigned i = 0; i < k; i++)
      if (state[ops[i]] == 0) stack[top++] = ops[i];
  }
  ompb__free(state);
  ompb__free(stack);
  return true;
}

void ompb_expr_free(ompb_expr *e) {
  if (!e) return;
  ompb__free(e->uses);
  ompb__free(e->used);
  ompb__free(e->consts);
  ompb__free(e->ins);
  for (size_t k = 0; e->runs && k < e->nruns; k++) {
    ompb__free((void *)e->runs[k].run.ops);
    ompb__free(e->runs[k].ext);
  }
  ompb__free(e->runs);
  ompb__free(e);
}

/* Slots: inputs, constants (in order of first use), temporaries, out. */
#define SLOT_OUT (UINT32_MAX - 1)
#define SLOT_TEMP 0x80000000u
#define SLOT_CONST 0x40000000u

static int build_program(ompb_expr *e, struct sched *s, uint32_t root, bool red) {
  const size_t nins = s->norder + (!red && leaf(&s->l[root]) ? 1 : 0);
  e->ins = ompb__calloc(nins ? nins : 1, sizeof *e->ins);
  e->consts = ompb__calloc(s->nl ? s->nl : 1, sizeof *e->consts);
  uint32_t *freelist = ompb__malloc((s->norder + 1) * sizeof *freelist);
  if (!e->ins || !e->consts || !freelist) {
    ompb__free(freelist);
    return OMPB_ENOMEM;
  }
  for (size_t i = 0; i < s->nl; i++) s->slot[i] = NONE, s->last[i] = 0;
  for (size_t i = 0; i < s->norder; i++) {
    const struct lnode *n = &s->l[s->order[i]];
    for (unsigned k = 0; k < nops(n); k++) s->last[operand(n, k)] = (uint32_t)i;
  }
  size_t nfree = 0, ntemp = 0;
  /* leaves' slots */
  for (size_t i = 0; i < s->nl; i++) {
    if (s->l[i].kind == L_IN) s->slot[i] = s->l[i].var;
  }
  for (size_t i = 0; i < s->norder; i++) {
    uint32_t id = s->order[i];
    const struct lnode *n = &s->l[id];
    struct ompb__xins *in = &e->ins[i];
    uint32_t src[4] = {NONE, NONE, NONE, NONE};
    for (unsigned k = 0; k < nops(n); k++) {
      uint32_t q = operand(n, k);
      if (s->l[q].kind == L_CONST && s->slot[q] == NONE) {
        e->consts[e->nconst] = s->l[q].v;
        s->slot[q] = SLOT_CONST | (uint32_t)e->nconst++;
      }
      src[k] = s->slot[q];
    }
    /* free the blocks whose value is read for the last time here */
    for (unsigned k = 0; k < nops(n); k++) {
      uint32_t q = operand(n, k);
      bool dup = false;
      for (unsigned j = 0; j < k; j++) dup |= operand(n, j) == q;
      if (!dup && (s->slot[q] & SLOT_TEMP) && s->slot[q] != SLOT_OUT && s->last[q] == i &&
          !(red && q == root))
        freelist[nfree++] = s->slot[q];
    }
    uint32_t dst;
    if (id == root && !red) {
      dst = SLOT_OUT;
    } else if (nfree > 0) {
      size_t best = 0; /* the lowest block: keeps the live ones together */
      for (size_t j = 1; j < nfree; j++)
        if (freelist[j] < freelist[best]) best = j;
      dst = freelist[best];
      freelist[best] = freelist[--nfree];
    } else {
      dst = SLOT_TEMP | (uint32_t)ntemp++;
    }
    s->slot[id] = dst;
    in->kind = n->kind;
    in->op = n->op;
    in->has_params = n->has_params;
    in->pd[0] = n->p[0];
    in->pd[1] = n->p[1];
    in->pf[0] = (float)n->p[0];
    in->pf[1] = (float)n->p[1];
    in->dst = dst;
    in->a = src[0];
    in->b = src[1];
    in->c = src[2];
    in->d = src[3];
  }
  ompb__free(freelist);
  if (!red && leaf(&s->l[root])) { /* out = an input or a constant */
    uint32_t q = root;
    if (s->l[q].kind == L_CONST && s->slot[q] == NONE) {
      e->consts[e->nconst] = s->l[q].v;
      s->slot[q] = SLOT_CONST | (uint32_t)e->nconst++;
    }
    e->ins[s->norder] = (struct ompb__xins){.kind = OMPB__XI_COPY, .dst = SLOT_OUT,
                                            .a = s->slot[q], .b = NONE, .c = NONE, .d = NONE};
  }
  if (red) {
    uint32_t q = root;
    if (s->l[q].kind == L_CONST && s->slot[q] == NONE) {
      e->consts[e->nconst] = s->l[q].v;
      s->slot[q] = SLOT_CONST | (uint32_t)e->nconst++;
    }
    e->red_src = s->slot[q];
  }
  if (e->nconst + ntemp > MAX_BLOCKS) return OMPB_ERANGE;
  e->ntemp = ntemp;
  e->nins = nins;
  e->nslots = e->nvars + e->nconst + e->ntemp + 1;
  /* final slot numbers */
  const uint32_t cbase = (uint32_t)e->nvars, tbase = cbase + (uint32_t)e->nconst;
  const uint32_t out = (uint32_t)e->nslots - 1;
#define FIX(v)                                                                 \
  ((v) == NONE ? NONE : (v) == SLOT_OUT ? out : ((v) & SLOT_TEMP) ? tbase + ((v) & ~SLOT_TEMP) \
   : ((v) & SLOT_CONST) ? cbase + ((v) & ~SLOT_CONST) : (v))
  for (size_t i = 0; i < nins; i++) {
    struct ompb__xins *in = &e->ins[i];
    in->dst = FIX(in->dst);
    in->a = FIX(in->a);
    in->b = FIX(in->b);
    in->c = FIX(in->c);
    in->d = FIX(in->d);
  }
  if (red) e->red_src = FIX(e->red_src);
#undef FIX
  return OMPB_OK;
}

/* ---- fused runs ----
 * Consecutive cheap elementwise instructions (arithmetic, comparisons,
 * selects, sqrt, the parameter kernels scale/add_scalar/affine, abs)
 * become one OMPB__XI_FUSED instruction that runs them strip by strip
 * (kernels/expr_ops.h): a run of two or more, or the last instruction
 * alone when it writes the output (its stores then stream straight to
 * out). A temporary written in the run before any read there, and not
 * read after it, lives in a stack strip; every other slot is read and
 * written in its block. At most RUN_MAX instructions a run: then at most
 * RUN_MAX strips and 5 * RUN_MAX operands, within the run's limits. */
#define RUN_MAX 16

static int run_code(const struct ompb__xins *in) {
  switch (in->kind) {
  case OMPB__XI_BIN: return OMPB__XR_BIN + in->op;
  case OMPB__XI_TRI: return OMPB__XR_TRI + in->op;
  case OMPB__XI_SEL: return OMPB__XR_SEL + in->op;
  case OMPB__XI_UN:
    switch (in->op) {
    case OMPB__EU_NEG: return OMPB__XR_NEG;
    case OMPB__EU_FLOOR: return OMPB__XR_FLOOR;
    case OMPB__EU_CEIL: return OMPB__XR_CEIL;
    case OMPB__EU_SQRT: return OMPB__XR_SQRT;
    case OMPB__EU_ROUND: return OMPB__XR_ROUND;
    case OMPB__EU_TRUNC: return OMPB__XR_TRUNC;
    case OMPB__EU_SIGN: return OMPB__XR_SIGN;
    default: return -1;
    }
  case OMPB__XI_K1:
    if (in->op == OMPB__K1_abs) return OMPB__XR_ABS;
    if (!in->has_params) return -1;
    if (in->op == OMPB__K1_scale) return OMPB__XR_SCALE;
    if (in->op == OMPB__K1_add_scalar) return OMPB__XR_ADDS;
    if (in->op == OMPB__K1_affine) return OMPB__XR_AFFINE;
    return -1;
  default: return -1;
  }
}

static unsigned ins_nops(const struct ompb__xins *in) {
  switch (in->kind) {
  case OMPB__XI_K2:
  case OMPB__XI_BIN: return 2;
  case OMPB__XI_TRI: return 3;
  case OMPB__XI_SEL: return 4;
  case OMPB__XI_FUSED: return 0;
  default: return 1;
  }
}
static uint32_t ins_operand(const struct ompb__xins *in, unsigned k) {
  return k == 0 ? in->a : k == 1 ? in->b : k == 2 ? in->c : in->d;
}

/* An instruction of a run as its run operation reads it: the code, the
 * operands (nops of them, 4 at most) and, for the K forms, the constant
 * p0. A select whose comparison has a constant side, and a fused
 * multiply-add with a constant factor, hold the constant in a register
 * instead of reading its constant block: where(x > 0, ..) is x > p0 (0 <
 * x is x > 0: the mirrored comparison is the same for every x, NaN
 * included), and a*b + c with a constant a is b*a + c (the same product). */
struct rform {
  int code;
  unsigned nops;
  uint32_t op[4];
  double k;
};
static struct rform run_form(const ompb_expr *e, const struct ompb__xins *in) {
  struct rform f = {.code = run_code(in), .nops = ins_nops(in)};
  for (unsigned j = 0; j < f.nops; j++) f.op[j] = ins_operand(in, j);
  const uint32_t c0 = (uint32_t)e->nvars, c1 = (uint32_t)(e->nvars + e->nconst);
  const bool ka = in->a >= c0 && in->a < c1, kb = in->b >= c0 && in->b < c1;
  int kform = -1;
  if (in->kind == OMPB__XI_SEL && (ka || kb)) {
    unsigned cmp = in->op % OMPB__ES_NEG, neg = in->op - cmp;
    if (!kb) { /* a CMP b with a constant: b CMP' a */
      static const unsigned mirror[] = {2, 3, 0, 1, 4, 5}; /* LT LE GT GE EQ NE */
      cmp = mirror[cmp];
      f.op[0] = in->b;
    }
    kform = OMPB__XR_SELK + (int)(neg + cmp);
    f.k = e->consts[(kb ? in->b : in->a) - c0];
  } else if (in->kind == OMPB__XI_TRI && in->op < OMPB__ET_WHERE && (ka || kb)) {
    if (!kb) f.op[0] = in->b;
    kform = OMPB__XR_TRIK + in->op;
    f.k = e->consts[(kb ? in->b : in->a) - c0];
  }
  if (kform >= 0) {
    /* operand 1 is not read: drop it */
    f.code = kform;
    for (unsigned j = 1; j + 1 < f.nops; j++) f.op[j] = f.op[j + 1];
    f.nops--;
  }
  return f;
}

/* Builds run r of instructions ins[i0, i1), with live[s] telling whether
 * slot s is read after the run and first[v] the first instruction that
 * reads input v. Returns false when out of memory. */
static bool make_run(const ompb_expr *e, const struct ompb__xins *ins, size_t i0, size_t i1,
                     const unsigned char *live, const size_t *first, struct ompb__xprun *r) {
  const uint32_t tbase = (uint32_t)(e->nvars + e->nconst), out = (uint32_t)e->nslots - 1;
  uint32_t slot[5 * RUN_MAX];
  bool first_read[5 * RUN_MAX];
  uint8_t idx[5 * RUN_MAX];
  struct rform form[RUN_MAX];
  size_t ns = 0;
  for (size_t i = i0; i < i1; i++) form[i - i0] = run_form(e, &ins[i]);
  /* distinct slots in order of first access (reads before the write) */
  for (size_t i = i0; i < i1; i++) {
    const unsigned k = form[i - i0].nops;
    for (unsigned j = 0; j <= k; j++) {
      const uint32_t q = j < k ? form[i - i0].op[j] : ins[i].dst;
      size_t t = 0;
      while (t < ns && slot[t] != q) t++;
      if (t == ns) {
        slot[ns] = q;
        first_read[ns++] = j < k;
      }
    }
  }
  unsigned next = 0, nint = 0, npf = 0;
  /* the external operands: the program's inputs that no instruction
   * before the run reads (they come from memory: prefetched), then the
   * other inputs (in L1 already: E4's select after log(x)), then the
   * rest */
  bool fresh[5 * RUN_MAX];
  for (size_t t = 0; t < ns; t++) {
    fresh[t] = slot[t] < e->nvars && first[slot[t]] >= i0;
    if (fresh[t]) idx[t] = (uint8_t)next++;
  }
  npf = next;
  for (size_t t = 0; t < ns; t++)
    if (slot[t] < e->nvars && !fresh[t]) idx[t] = (uint8_t)next++;
  for (size_t t = 0; t < ns; t++) {
    const bool internal = slot[t] >= tbase && slot[t] < out && !first_read[t] && !live[slot[t]];
    if (!internal && slot[t] >= e->nvars) idx[t] = (uint8_t)next++;
  }
  for (size_t t = 0; t < ns; t++) {
    const bool internal = slot[t] >= tbase && slot[t] < out && !first_read[t] && !live[slot[t]];
    if (internal) idx[t] = (uint8_t)(next + nint++);
  }
  struct ompb__xrop *ops = ompb__calloc(i1 - i0, sizeof *ops);
  uint32_t *ext = ompb__malloc((next ? next : 1) * sizeof *ext);
  if (!ops || !ext) {
    ompb__free(ops);
    ompb__free(ext);
    return false;
  }
  r->out_ext = -1;
  for (size_t t = 0; t < ns; t++) {
    if (idx[t] >= next) continue;
    ext[idx[t]] = slot[t];
    if (slot[t] == out) r->out_ext = idx[t];
  }
  for (size_t i = i0; i < i1; i++) {
    struct ompb__xrop *o = &ops[i - i0];
    const struct rform *f = &form[i - i0];
    const bool kf = f->code >= OMPB__XR_SELK;
    uint8_t v[5] = {0, 0, 0, 0, 0};
    for (unsigned j = 0; j <= f->nops; j++) {
      const uint32_t q = j < f->nops ? f->op[j] : ins[i].dst;
      size_t t = 0;
      while (slot[t] != q) t++;
      /* a K form's operands are a, c, d: b is the constant */
      v[j == f->nops ? 4 : kf && j > 0 ? j + 1 : j] = idx[t];
    }
    o->code = (uint8_t)f->code;
    o->a = v[0], o->b = v[1], o->c = v[2], o->d = v[3], o->dst = v[4];
    o->pf[0] = ins[i].pf[0], o->pf[1] = ins[i].pf[1];
    o->pd[0] = ins[i].pd[0], o->pd[1] = ins[i].pd[1];
    if (kf) o->pf[0] = (float)f->k, o->pd[0] = f->k;
  }
  r->run = (struct ompb__xrun){.ops = ops, .nops = i1 - i0, .next = next, .nint = nint,
                               .npf = npf};
  r->ext = ext;
  return true;
}

/* Replaces the runs of e's program by OMPB__XI_FUSED instructions. The
 * runs are found forwards; the liveness of slots after each run comes from
 * one backward sweep over the program. */
static int fuse_runs(ompb_expr *e) {
  const size_t n = e->nins;
  const uint32_t out = (uint32_t)e->nslots - 1;
  size_t *end = ompb__malloc((n + 1) * sizeof *end); /* end[i0]: run [i0, end) or 0 */
  unsigned char *live = ompb__calloc(e->nslots, 1);
  size_t *first = ompb__malloc((e->nvars ? e->nvars : 1) * sizeof *first); /* input -> reader */
  size_t *start_at = ompb__malloc((n + 1) * sizeof *start_at); /* run ending at i, or n */
  int rc = OMPB_ENOMEM;
  size_t nr = 0;
  if (!end || !live || !first || !start_at) goto out;
  for (size_t i = 0; i <= n; i++) end[i] = 0, start_at[i] = SIZE_MAX;
  for (size_t v = 0; v < e->nvars; v++) first[v] = SIZE_MAX;
  for (size_t i = n; i-- > 0;)
    for (unsigned k = 0; k < ins_nops(&e->ins[i]); k++)
      if (ins_operand(&e->ins[i], k) < e->nvars) first[ins_operand(&e->ins[i], k)] = i;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && j - i < RUN_MAX && run_code(&e->ins[j]) >= 0) j++;
    if (j - i >= 2 || (j - i == 1 && e->ins[i].dst == out)) {
      end[i] = j;
      start_at[j] = i;
      nr++;
      i = j;
    } else {
      i = j > i ? j : i + 1;
    }
  }
  rc = OMPB_OK;
  if (nr == 0) goto out;
  rc = OMPB_ENOMEM;
  e->runs = ompb__calloc(nr, sizeof *e->runs);
  if (!e->runs) goto out;
  if (e->red >= 0) live[e->red_src] = 1;
  /* backwards: at position p every instruction >= p has been seen */
  size_t r = nr;
  for (size_t p = n + 1; p-- > 0;) {
    if (start_at[p] != SIZE_MAX) {
      if (!make_run(e, e->ins, start_at[p], p, live, first, &e->runs[--r])) goto out;
      e->nruns++;
    }
    if (p == 0) break;
    const struct ompb__xins *in = &e->ins[p - 1];
    live[in->dst] = 0;
    for (unsigned k = 0; k < ins_nops(in); k++) live[ins_operand(in, k)] = 1;
  }
  /* forwards: the new program, in place (it only shrinks) */
  size_t w = 0, k = 0;
  for (size_t i = 0; i < n;) {
    if (end[i]) {
      uint32_t dst = e->ins[end[i] - 1].dst;
      for (size_t q = i; q < end[i]; q++)
        if (e->ins[q].dst == out) dst = out;
      e->ins[w++] = (struct ompb__xins){.kind = OMPB__XI_FUSED, .a = (uint32_t)k++, .dst = dst,
                                        .b = NONE, .c = NONE, .d = NONE};
      i = end[i];
    } else {
      e->ins[w++] = e->ins[i++];
    }
  }
  e->nins = w;
  rc = OMPB_OK;
out:
  ompb__free(end);
  ompb__free(live);
  ompb__free(first);
  ompb__free(start_at);
  return rc;
}

static int compile_graph(ompb_expr *e, const struct ompb__xgraph *g, ompb_expr_diag *d) {
  struct lower w = {.g = g, .rc = OMPB_OK};
  struct sched s = {0};
  int rc = OMPB_ENOMEM;
  w.uses = ompb__calloc(g->count, sizeof *w.uses);
  w.lo = ompb__malloc(g->count * sizeof *w.lo);
  if (!w.uses || !w.lo) goto out;
  /* uses, from the root down (children have smaller ids) */
  w.uses[g->root] = 1;
  for (size_t i = g->count; i-- > 0;) {
    if (!w.uses[i]) continue;
    const struct ompb__xnode *n = &g->nodes[i];
    if (n->op == OMPB__X_CONST || n->op == OMPB__X_VAR) continue;
    if (n->a != NONE) w.uses[n->a]++;
    if (n->b != NONE) w.uses[n->b]++;
    if (n->c != NONE) w.uses[n->c]++;
  }
  for (size_t i = 0; i < g->count; i++) {
    w.lo[i] = w.uses[i] ? lower_node(&w, (uint32_t)i) : NONE;
    if (w.rc != OMPB_OK) goto out;
  }
  const struct ompb__xnode *r = &g->nodes[g->root];
  bool red = r->op == OMPB__X_RED;
  e->red = red ? (int)r->sub : -1;
  uint32_t root = w.lo[g->root];
  /* variables read */
  for (size_t i = 0; i < g->count; i++)
    if (w.uses[i] && g->nodes[i].op == OMPB__X_VAR) e->uses[g->nodes[i].a] = 1;
  for (size_t k = 0; k < e->nvars; k++) e->nused += e->uses[k];
  e->used = ompb__malloc((e->nused ? e->nused : 1) * sizeof *e->used);
  if (!e->used) goto out;
  for (size_t k = 0, j = 0; k < e->nvars; k++)
    if (e->uses[k]) e->used[j++] = (uint32_t)k;
  s.l = w.l;
  s.nl = w.nl;
  s.need = ompb__malloc(s.nl * sizeof *s.need);
  s.order = ompb__malloc(s.nl * sizeof *s.order);
  s.last = ompb__malloc(s.nl * sizeof *s.last);
  s.slot = ompb__malloc(s.nl * sizeof *s.slot);
  if (!s.need || !s.order || !s.last || !s.slot) goto out;
  compute_need(&s);
  if (!emit_order(&s, root)) goto out;
  rc = build_program(e, &s, root, red);
  if (rc == OMPB_OK) rc = fuse_runs(e);
  if (rc == OMPB_ERANGE && d) {
    d->pos = 0;
    snprintf(d->message, sizeof d->message,
             "needs more than %d blocks of scratch (constants and temporaries)", MAX_BLOCKS);
  }
out:
  ompb__free(w.uses);
  ompb__free(w.lo);
  ompb__free(w.l);
  ompb__free(s.need);
  ompb__free(s.order);
  ompb__free(s.last);
  ompb__free(s.slot);
  return rc;
}

int ompb_expr_compile(const char *src, const char *const *vars, size_t nvars, ompb_expr **out,
                      ompb_expr_diag *diag_out) {
  ompb_expr_diag dummy;
  ompb_expr_diag *d = diag_out ? diag_out : &dummy;
  d->pos = 0;
  d->message[0] = '\0';
  if (out) *out = NULL;
  if (!src || !out || (nvars > 0 && !vars)) {
    snprintf(d->message, sizeof d->message, "%s is NULL",
             !src ? "the expression" : !out ? "out" : "vars");
    return OMPB_EINVAL;
  }
  if (nvars > OMPB_EXPR_MAX_VARS) {
    snprintf(d->message, sizeof d->message, "more than %d variables", OMPB_EXPR_MAX_VARS);
    return OMPB_ERANGE;
  }
  size_t len = strnlen(src, OMPB_EXPR_MAX_LEN + 1);
  if (len > OMPB_EXPR_MAX_LEN) {
    d->pos = OMPB_EXPR_MAX_LEN;
    snprintf(d->message, sizeof d->message, "longer than %zu bytes", OMPB_EXPR_MAX_LEN);
    return OMPB_ERANGE;
  }
  struct ompb__xvars v;
  int rc = vars_init(&v, vars, nvars, d);
  struct ompb__xgraph g = {0};
  ompb_expr *e = NULL;
  if (rc == OMPB_OK) rc = ompb__xparse(src, len, &v, &g, d);
  if (rc == OMPB_OK) {
    rc = OMPB_ENOMEM;
    e = ompb__calloc(1, sizeof *e);
    if (e) {
      e->nvars = nvars;
      e->uses = ompb__calloc(nvars ? nvars : 1, 1);
      if (e->uses) rc = compile_graph(e, &g, d);
    }
  }
  if (rc == OMPB_ENOMEM) {
    d->pos = 0;
    snprintf(d->message, sizeof d->message, "out of memory");
  }
  ompb__xgraph_free(&g);
  ompb__free(v.hash);
  if (rc != OMPB_OK) {
    ompb_expr_free(e);
    return rc;
  }
  *out = e;
  return OMPB_OK;
}

bool ompb_expr_is_reduction(const ompb_expr *e) { return e && e->red >= 0; }
size_t ompb_expr_nvars(const ompb_expr *e) { return e ? e->nvars : 0; }
bool ompb_expr_uses(const ompb_expr *e, size_t k) { return e && k < e->nvars && e->uses[k]; }
