/* SPDX-License-Identifier: BSD-3-Clause */
/* Compiled expressions inside the library: the function table
 * (src/expr_funcs.c), the expression graph the parser builds
 * (src/expr_parse.c), and the register program the compiler makes of it
 * (src/expr_compile.c), which the evaluator runs block by block
 * (src/work_expr.c). Calls go one way: compile -> parse -> funcs. */
#ifndef OMPB_EXPR_PROG_H
#define OMPB_EXPR_PROG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "expr_ops.h"
#include "ompbatch/expr.h"

/* Elements per block of the evaluator (src/work_expr.c): every live block
 * of a program stays in L1/L2 (docs/design.md, "Expressions: blocks and
 * programs"). */
#ifndef OMPB_EXPR_BLOCK
#define OMPB_EXPR_BLOCK 1024
#endif

/* ---- the expression graph ----
 * Nodes are created children first (ids grow from the leaves to the
 * root), hash-consed (an equal node is found, not made: common
 * subexpressions exist once) and constant-folded on creation. */
enum ompb__xop {
  OMPB__X_CONST, /* v */
  OMPB__X_VAR,   /* a: the variable's index */
  OMPB__X_UN,    /* sub: OMPB__EU_* (NEG, FLOOR, ...), a */
  OMPB__X_BIN,   /* sub: OMPB__EB_* or OMPB__X_POW, a op b */
  OMPB__X_WHERE, /* where(a, b, c) */
  OMPB__X_K1,    /* sub: built-in unary kernel index, a */
  OMPB__X_K2,    /* sub: built-in two-input kernel index, a, b */
  OMPB__X_RED,   /* sub: OMPB__ER_* or OMPB__X_MEAN, a; only the root */
  OMPB__X_TRI    /* sub: OMPB__ET_FLOORDIV, a, b, c */
};
#define OMPB__X_POW OMPB__EB_COUNT  /* the sub of a ** b */
#define OMPB__X_MEAN OMPB__ER_COUNT /* the sub of mean() */

struct ompb__xnode {
  uint8_t op;
  uint16_t sub;
  uint32_t a, b, c;
  double v;
};

struct ompb__xgraph {
  struct ompb__xnode *nodes;
  size_t count, cap;
  uint32_t *hash; /* open addressing: node id + 1, 0 empty */
  size_t hcap;
  uint32_t root;
  size_t red_pos;  /* source position of the first reduction call */
  size_t nred;     /* reduction nodes made */
};

/* ---- functions an expression may call (src/expr_funcs.c) ---- */
enum ompb__xfkind {
  OMPB__XF_K1,    /* a built-in unary kernel: index */
  OMPB__XF_K2,    /* a built-in two-input kernel: index */
  OMPB__XF_UN,    /* OMPB__EU_* */
  OMPB__XF_BIN,   /* OMPB__EB_* or OMPB__X_POW */
  OMPB__XF_WHERE,
  OMPB__XF_RED,   /* OMPB__ER_* or OMPB__X_MEAN */
  OMPB__XF_LOWER  /* OMPB__XL_*: built by the parser from other nodes */
};
/* Functions the parser writes with other operations, exactly: isnan(x)
 * is x != x, isinf(x) abs(x) == inf, isfinite(x) abs(x) < inf, signbit(x)
 * copysign(1, x) < 0, copy(x) x, ones_like(x) the constant 1. */
enum { OMPB__XL_ISNAN, OMPB__XL_ISINF, OMPB__XL_ISFINITE, OMPB__XL_SIGNBIT, OMPB__XL_COPY,
       OMPB__XL_ONES_LIKE };
struct ompb__xfunc {
  ompb_expr_func pub;
  enum ompb__xfkind kind;
  unsigned index;
};
/* The function called `name` (len bytes, not NUL-terminated), or NULL. */
const struct ompb__xfunc *ompb__xfunc_find(const char *name, size_t len);

/* ---- parsing (src/expr_parse.c) ---- */
/* Parse src into g (g zeroed by the caller, freed with ompb__xgraph_free
 * on every outcome). vars: name lookup. Returns OMPB_OK, OMPB_EINVAL or
 * OMPB_ERANGE with d filled, or OMPB_ENOMEM. */
struct ompb__xvars;
int ompb__xparse(const char *src, size_t len, const struct ompb__xvars *vars,
                 struct ompb__xgraph *g, ompb_expr_diag *d);
void ompb__xgraph_free(struct ompb__xgraph *g);
/* The index of variable name[0..len) or -1 (src/expr_compile.c). */
long ompb__xvars_find(const struct ompb__xvars *v, const char *name, size_t len);

/* ---- the register program ----
 * Slots: [0, nvars) the inputs, then nconst constant blocks, then ntemp
 * scratch blocks, then the output block (slot nslots - 1). */
enum ompb__xikind {
  OMPB__XI_K1,   /* kernel op(a -> dst, params when has_params) */
  OMPB__XI_K2,   /* kernel op(a, b -> dst) */
  OMPB__XI_UN,   /* OMPB__EU_* */
  OMPB__XI_BIN,  /* OMPB__EB_* */
  OMPB__XI_TRI,  /* OMPB__ET_* */
  OMPB__XI_COPY, /* a -> dst */
  OMPB__XI_SEL,  /* (a CMP b) ? c : d (or -d), op: the OMPB__ES_* index */
  OMPB__XI_FUSED /* runs[a]: cheap operations strip by strip; dst: the
                    output slot when the run writes it, else its last
                    operation's destination */
};
struct ompb__xins {
  uint8_t kind;
  bool has_params;
  uint16_t op;
  uint32_t dst, a, b, c, d; /* d: XI_SEL only */
  float pf[2];
  double pd[2];
};

/* A fused run (kernels/expr_ops.h) and its external operands' slots. */
struct ompb__xprun {
  struct ompb__xrun run;
  uint32_t *ext;   /* run.next slots */
  int out_ext;     /* the external operand that is the output slot, or -1 */
};

struct ompb_expr {
  size_t nvars;
  unsigned char *uses;   /* nvars flags */
  size_t nused;
  uint32_t *used;        /* the used variables' indices, increasing */
  size_t nconst;
  double *consts;        /* slot nvars + k holds consts[k] */
  size_t ntemp;
  size_t nslots;
  size_t nins;
  struct ompb__xins *ins;
  size_t nruns;
  struct ompb__xprun *runs; /* the fused runs of OMPB__XI_FUSED */
  int red;               /* -1, OMPB__ER_* or OMPB__X_MEAN */
  uint32_t red_src;      /* the slot a reduction reduces */
};

/* ---- the evaluator's block, alone (src/work_expr.c) ----
 * For perf/bench_expr: one block of m <= OMPB_EXPR_BLOCK elements run
 * exactly as the evaluator runs a block (its passes, its kernel-call
 * splits, its scratch), with out written by plain stores: the program's
 * in-cache time as the evaluator pays it, without its memory traffic. in:
 * the used variables' blocks in e->used order. new gives NULL for a
 * reduction or when out of memory. Thread-safety: one handle per thread. */
typedef struct ompb__xbench ompb__xbench;
ompb__xbench *ompb__xbench_new(const ompb_expr *e, bool f64);
void ompb__xbench_block(ompb__xbench *h, const void *const *in, void *out, size_t m);
void ompb__xbench_free(ompb__xbench *h);

#endif /* OMPB_EXPR_PROG_H */
