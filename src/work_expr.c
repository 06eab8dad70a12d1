/* SPDX-License-Identifier: BSD-3-Clause */
/* Expression evaluation, a kind of work: a compiled expression
 * (src/expr_prog.h) over n elements, one index per element, claimed in
 * whole blocks; each member runs the program block by block in its own
 * scratch blocks, so every operation of a block works on cache-resident
 * data and only the inputs and out touch memory. Progress counts
 * elements. Entry points ompb_expr_eval_* and ompb_expr_eval_start_*. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_condattr_setclock */
#include <math.h>
#include <string.h>

#include "expr_prog.h"
#include "kernels.h"
#include "work.h"

#define XBLOCK ((size_t)OMPB_EXPR_BLOCK)
/* Slots of a program whose last two instructions may run as an nt_sel_
 * kernel (run_ksel offsets them on the stack). */
#define KSEL_MAX_SLOTS 64
/* f64 programs of more than one operation run each block in passes of
 * this many elements (2 KiB per slot): a 1024-double block is 8 KiB per
 * slot, and E4's four live blocks beside its input and the streaming
 * buffer no longer fit L1 (perf/bench_expr's programs before the fused
 * runs, CPU time over 8M doubles, 2 threads: passes of 128 made E1 1.18x,
 * E3 1.45x, E4 1.31x faster than whole blocks). f32 passes of 256 or 512
 * measured no better (0.88x-1.08x, and again 1.01x-1.07x with today's
 * kernels). Reductions run whole blocks (a block's partial reads its
 * whole slot). A fused run counts as one instruction: E3, one run, runs
 * whole blocks. 256 rather than 128: a pass pays its dispatch (run_block,
 * exec, run_f64: ~240 of E1's ~3500 instructions in a pass of 128,
 * callgrind at AVX2) and its calls' fixed costs once per 256 elements.
 * With XKCALL_F64 below, one process alternating both 21 times, 1 thread,
 * 4M doubles from memory, median CPU ms, two sittings: E1 7.36 / 7.50 ->
 * 7.05 / 7.46, E4 4.71 / 4.61 -> 4.51 / 4.47, E1 `_fast` 5.84 / 6.09 ->
 * 5.64 / 5.81; in cache (one 1024-double block) E4 2.7-3.3 -> 2.4-3.0
 * ticks per element. */
#define XPASS_F64 ((size_t)256)
/* Within an f64 pass, a kernel call that reads a program input goes in
 * calls of this many elements: the input comes from memory, and some
 * kernels prefetch each call's lines 4 KiB ahead in one burst per call
 * (kernels/isa.h, GUARDED_KERNEL's PREFETCH_BLOCK, up to 256 elements at
 * once): 32 lines at once outrun the line fill buffers where 16 do not
 * (E1 `_fast` f64 in passes of 256 without it: 5.87 -> 6.30 ms, with it
 * 5.79). Kernels compute every element the same way wherever a call
 * starts: the bits do not change. */
#define XKCALL_F64 ((size_t)128)
/* Blocks per claim at most: claims stay cheap next to their work. */
#define CLAIM_BLOCKS_MAX 64

struct xwork {
  const ompb_expr *e;
  const ompb__simd_table *t;
  const ompb__expr_ops *x;
  const char **in; /* e->nused base pointers, in e->used order */
  char *out;
  size_t n, esize;
  bool f64, stream;
  /* The last instruction stores to out with non-temporal stores itself
   * when streaming (no buffer copy): a fused run that writes out, or a
   * kernel with an nt_ form (the same bits as the kernel, kernels/table.c;
   * `exp(-x*x)`, `log(x*x + 1)`, `sin(x)`, 1 thread, 8M elements from
   * memory, median CPU time, 15 alternations: f32 0.89x, 0.90x, 0.91x,
   * f64 0.90x, 0.87x, 0.94x the buffer and its copy's). */
  bool nt_run;
  /* The last two instructions are a kernel with an nt_sel_ form
   * (kernels/kernels.h) and a select or multiply-add of its result: when
   * streaming, they run as that one kernel, the operation in its
   * registers, over a block's whole lines; the rest of a block (less
   * than a line) runs them as they are. where(x > 0, log(x), -x),
   * 2*sin(x) + exp(-x*x), 2 threads, 16M floats / 8M doubles from
   * memory: docs/design.md "Expressions: a kernel and its select". Both
   * NULL otherwise. */
  ompb_kernel_f32 *ksel32;
  ompb_kernel_f64 *ksel64;
  uint32_t ksel_in, ksel_c, ksel_f; /* the kernel's input, c and f slots */
  unsigned ksel_sel;                /* the epilogue (ompb__ksel_*) */
  double ksel_k;                    /* its constant */
  /* An input or out is not aligned to its element (a float at an odd
   * address: C's loads may not touch it): each block's inputs are copied
   * into scratch and its result copied out, with memcpy. */
  bool unaligned;
  size_t sub; /* elements per pass of the program, 0: the whole block */
  /* elements per call of a kernel that reads a program input, 0: the
   * whole pass (XKCALL_F64) */
  size_t kcall;
  double *partials; /* reductions: one per block */
  void **scratch;   /* per member, made on its first claim */
  unsigned nscratch;
};

/* A member's scratch: the slot pointer table (nslots entries, then the
 * streaming buffer's address at [nslots]: slot nslots - 1 is set to each
 * block's destination, which may be out; when unaligned, the addresses of
 * the inputs' copies follow), then 64-byte aligned blocks: constants,
 * temporaries, the streaming buffer, and the inputs' copies when
 * unaligned. Copying the inputs' blocks into scratch first was measured
 * slower (E1 f32 1 thread 0.78x, E2 0.82x, E4 0.74x): only unaligned
 * arrays are copied. */
static void **make_scratch(const struct xwork *w) {
  const ompb_expr *e = w->e;
  size_t copies = w->unaligned ? e->nused : 0;
  size_t blocks = e->nconst + e->ntemp + 1 + copies;
  size_t table = ((e->nslots + 1 + copies) * sizeof(void *) + 63) & ~(size_t)63;
  size_t bytes = table + 64 + blocks * XBLOCK * w->esize;
  void **mem = ompb__malloc(bytes);
  if (!mem) return NULL;
  char *base = (char *)(((uintptr_t)mem + table + 63) & ~(uintptr_t)63);
  /* the table sits at the start; mem itself is what is freed */
  void **p = mem;
  for (size_t k = 0; k < e->nvars; k++) p[k] = NULL;
  for (size_t k = 0; k < e->nconst; k++) {
    char *blk = base + k * XBLOCK * w->esize;
    p[e->nvars + k] = blk;
    if (w->f64) {
      for (size_t i = 0; i < XBLOCK; i++) ((double *)blk)[i] = e->consts[k];
    } else {
      for (size_t i = 0; i < XBLOCK; i++) ((float *)blk)[i] = (float)e->consts[k];
    }
  }
  for (size_t k = 0; k < e->ntemp; k++)
    p[e->nvars + e->nconst + k] = base + (e->nconst + k) * XBLOCK * w->esize;
  /* the streaming buffer (slot nslots - 1 until a block sets it) */
  p[e->nslots - 1] = p[e->nslots] = base + (e->nconst + e->ntemp) * XBLOCK * w->esize;
  for (size_t j = 0; j < copies; j++)
    p[e->nslots + 1 + j] = base + (e->nconst + e->ntemp + 1 + j) * XBLOCK * w->esize;
  return p;
}

/* Instructions [i0, i1) over m elements. nt: slot nslots - 1 is out
 * itself and the instruction that writes it streams its stores
 * (xwork.nt_run). */
#define EXEC(T, sfx)                                                           \
  static void exec_##sfx(const struct xwork *w, void **p, size_t m, bool nt,   \
                         size_t i0, size_t i1) {                               \
    const ompb_expr *e = w->e;                                                 \
    const ompb__simd_table *t = w->t;                                          \
    const ompb__expr_ops *x = w->x;                                            \
    for (size_t i = i0; i < i1; i++) {                                         \
      const struct ompb__xins *in = &e->ins[i];                                \
      T *d = p[in->dst];                                                       \
      switch (in->kind) {                                                      \
      case OMPB__XI_K1: {                                                      \
        const T *a = p[in->a];                                                 \
        const void *kp = in->has_params ? (const void *)in->p##sfx : NULL;     \
        ompb_kernel_##sfx *k = nt && in->dst == e->nslots - 1                  \
                                   ? t->nt_##sfx[in->op]                       \
                                   : t->sfx[in->op];                           \
        size_t s = 0;                                                          \
        if (m > w->kcall && w->kcall && in->a < e->nvars)                      \
          for (; s + w->kcall < m; s += w->kcall) k(a + s, d + s, w->kcall, kp); \
        k(a + s, d + s, m - s, kp);                                            \
        break;                                                                 \
      }                                                                        \
      case OMPB__XI_K2: t->sfx##_2[in->op](p[in->a], p[in->b], d, m, NULL); break; \
      case OMPB__XI_UN: x->un_##sfx[in->op](p[in->a], d, m); break;            \
      case OMPB__XI_BIN: x->bin_##sfx[in->op](p[in->a], p[in->b], d, m); break; \
      case OMPB__XI_TRI:                                                       \
        x->tri_##sfx[in->op](p[in->a], p[in->b], p[in->c], d, m);              \
        break;                                                                 \
      case OMPB__XI_SEL:                                                       \
        x->sel_##sfx[in->op](p[in->a], p[in->b], p[in->c], p[in->d], d, m);    \
        break;                                                                 \
      case OMPB__XI_FUSED: {                                                   \
        const struct ompb__xprun *r = &e->runs[in->a];                         \
        T *ext[OMPB__XR_MAX_OPERANDS];                                         \
        for (unsigned k = 0; k < r->run.next; k++) ext[k] = p[r->ext[k]];      \
        x->run_##sfx(&r->run, ext, m, nt ? r->out_ext : -1);                   \
        break;                                                                 \
      }                                                                        \
      case OMPB__XI_COPY:                                                      \
        if ((void *)d != p[in->a]) memcpy(d, p[in->a], m * sizeof(T));         \
        break;                                                                 \
      }                                                                        \
    }                                                                          \
  }
#define pf32 pf
#define pf64 pd
EXEC(float, f32)
EXEC(double, f64)
#undef pf32
#undef pf64

/* The program over m elements of a streamed block (slot nslots - 1 is
 * out, 64-byte aligned) with its last two instructions as one nt_sel_
 * kernel over the whole lines, and as they are over the rest (plain
 * stores; every slot at that offset, the unused inputs' NULL kept). */
static void run_ksel(const struct xwork *w, void **p, size_t m) {
  const ompb_expr *e = w->e;
  const size_t es = w->esize, lines = m - m % (64 / es);
  if (w->f64) {
    exec_f64(w, p, m, true, 0, e->nins - 2);
    const struct ompb__ksel_f64 s = {p[w->ksel_c], p[w->ksel_f], w->ksel_k, w->ksel_sel};
    w->ksel64(p[w->ksel_in], p[e->nslots - 1], lines, &s);
  } else {
    exec_f32(w, p, m, true, 0, e->nins - 2);
    const struct ompb__ksel_f32 s = {p[w->ksel_c], p[w->ksel_f], (float)w->ksel_k, w->ksel_sel};
    w->ksel32(p[w->ksel_in], p[e->nslots - 1], lines, &s);
  }
  if (lines == m) return;
  void *q[KSEL_MAX_SLOTS];
  for (size_t k = 0; k < e->nslots; k++) q[k] = p[k] ? (char *)p[k] + lines * es : NULL;
  if (w->f64) exec_f64(w, q, m - lines, false, e->nins - 2, e->nins);
  else exec_f32(w, q, m - lines, false, e->nins - 2, e->nins);
}

/* How a block's result reaches out. */
enum { TO_OUT, TO_STREAM, TO_COPY, TO_RED };

/* Run the program over [lo, lo + m), inputs and out at lo, in passes of
 * w->sub elements (each pass reads its inputs before it writes the same
 * range of out, so out may still be an input). TO_OUT: the last operation
 * writes out; TO_STREAM, TO_COPY: it writes the streaming buffer, which
 * each pass then copies to out (non-temporal stores, or memcpy); TO_RED:
 * the block's partial of the reduction. */
static void run_block(const struct xwork *w, void **p, size_t lo, size_t m, int to) {
  const ompb_expr *e = w->e;
  const size_t sub = w->sub && to != TO_RED ? w->sub : m, es = w->esize;
  char *const *copies = w->unaligned ? (char *const *)(p + e->nslots + 1) : NULL;
  char *const sbuf = p[e->nslots];
  if (copies)
    for (size_t j = 0; j < e->nused; j++) memcpy(copies[j], w->in[j] + lo * es, m * es);
  for (size_t s0 = 0; s0 < m; s0 += sub) {
    const size_t ms = m - s0 < sub ? m - s0 : sub;
    char *const o = w->out + (lo + s0) * es;
    for (size_t j = 0; j < e->nused; j++)
      p[e->used[j]] = copies ? (void *)(copies[j] + s0 * es) : (void *)(w->in[j] + (lo + s0) * es);
    const bool nt = to == TO_STREAM && w->nt_run;
    p[e->nslots - 1] = to == TO_OUT || nt ? o : sbuf;
    if (nt && (w->ksel32 || w->ksel64)) run_ksel(w, p, ms);
    else if (w->f64) exec_f64(w, p, ms, nt, 0, e->nins);
    else exec_f32(w, p, ms, nt, 0, e->nins);
    if (to == TO_STREAM && !nt) {
      if (w->f64) w->t->stream_f64((const double *)(void *)sbuf, (double *)(void *)o, ms);
      else w->t->stream_f32((const float *)(void *)sbuf, (float *)(void *)o, ms);
    } else if (to == TO_COPY) {
      memcpy(o, sbuf, ms * es);
    }
  }
  if (to == TO_RED) {
    int op = e->red == OMPB__X_MEAN ? OMPB__ER_SUM : e->red;
    const void *src = p[e->red_src];
    w->partials[lo / XBLOCK] =
        w->f64 ? w->x->red_f64[op](src, m) : w->x->red_f32[op](src, m);
  }
}

static bool run_range(ompb_batch *b, struct ompb__slot *s, size_t lo, size_t hi) {
  struct xwork *w = OMPB__WORK(b, struct xwork);
  const ompb_expr *e = w->e;
  size_t k = (size_t)(s - b->slots);
  void **p = w->scratch[k];
  if (!p) {
    p = w->scratch[k] = make_scratch(w);
    if (!p) {
      ompb__trip(b, OMPB__STOP_FAILFAST, OMPB_ENOMEM);
      ompb__skip(b, lo, hi);
      return true;
    }
  }
  const size_t es = w->esize;
  int64_t t0 = 0;
  bool streamed = false;
  size_t i = lo;
  /* streaming stores start at a 64-byte boundary of out */
  size_t head = 0;
  if (w->stream) {
    head = (size_t)((64 - ((uintptr_t)(w->out + lo * es) & 63)) & 63) / es;
    if (head > hi - lo) head = hi - lo;
  }
  while (i < hi) {
    if (ompb__gate(b, &t0)) {
      ompb__skip(b, i, hi);
      if (streamed) w->t->stream_fence();
      return true;
    }
    size_t m = hi - i < XBLOCK ? hi - i : XBLOCK;
    int to = e->red >= 0 ? TO_RED : w->stream ? TO_STREAM : w->unaligned ? TO_COPY : TO_OUT;
    if (head > 0) {
      m = head;
      head = 0;
      to = TO_OUT;
    }
    run_block(w, p, i, m, to);
    streamed |= to == TO_STREAM;
    i += m;
    OMPB__STORE(&s->ok, OMPB__LOAD(&s->ok) + m);
  }
  if (streamed) w->t->stream_fence();
  return false;
}

static void free_scratch(struct xwork *w) {
  for (unsigned k = 0; w->scratch && k < w->nscratch; k++) {
    ompb__free(w->scratch[k]);
    w->scratch[k] = NULL;
  }
}

/* The team ended: a reduction that saw every element combines its block
 * partials in block order (the same for any worker count) into out[0].
 * Not when a member saw a stop (n > 0): the batch then ends cancelled or
 * timed out even if every block had run (seal in src/reporter.c), and
 * such a reduction leaves out[0] unwritten. */
static void team_done(ompb_batch *b) {
  struct xwork *w = OMPB__WORK(b, struct xwork);
  free_scratch(w);
  const ompb_expr *e = w->e;
  if (e->red < 0 || atomic_load(&b->state) != OMPB__RUNNING ||
      (b->n > 0 && atomic_load(&b->stop_seen)))
    return;
  size_t done = 0;
  for (unsigned k = 0; k < b->nslots; k++) done += OMPB__LOAD(&b->slots[k].ok);
  if (done != w->n) return;
  size_t nb = (w->n + XBLOCK - 1) / XBLOCK;
  double r;
  switch (e->red) {
  case OMPB__ER_PROD:
    r = 1;
    for (size_t i = 0; i < nb; i++) r *= w->partials[i];
    break;
  case OMPB__ER_MIN:
  case OMPB__ER_MAX:
    r = w->partials[0];
    for (size_t i = 1; i < nb; i++) {
      double v = w->partials[i];
      if (isnan(r) || isnan(v)) r = NAN;
      else if (e->red == OMPB__ER_MIN ? v < r : v > r) r = v;
    }
    break;
  default: /* sum, mean */
    r = 0;
    for (size_t i = 0; i < nb; i++) r += w->partials[i];
    if (e->red == OMPB__X_MEAN) r = w->n ? r / (double)w->n : NAN;
    break;
  }
  /* memcpy: out may be off its element's alignment */
  if (w->f64) {
    memcpy(w->out, &r, sizeof r);
  } else {
    float f = (float)r;
    memcpy(w->out, &f, sizeof f);
  }
}

static void destroy(ompb_batch *b) {
  struct xwork *w = OMPB__WORK(b, struct xwork);
  free_scratch(w);
  ompb__free(w->scratch);
  ompb__free(w->partials);
  ompb__free(w->in);
}

static const struct ompb__work_ops expr_ops = {
    .run_range = run_range, .team_done = team_done, .destroy = destroy};

/* Elements per claim: whole blocks, about 8 claims per member so that the
 * tail balances, at most CLAIM_BLOCKS_MAX blocks. */
static size_t auto_claim(unsigned members, size_t n) {
  size_t blocks = (n + XBLOCK - 1) / XBLOCK;
  size_t want = blocks / ((size_t)(members ? members : 1) * 8);
  if (want < 1) want = 1;
  if (want > CLAIM_BLOCKS_MAX) want = CLAIM_BLOCKS_MAX;
  return want * XBLOCK;
}

/* The select index of the nt_sel_ kernels is the fused runs' (kernels/isa.h
 * reads sel % 6 and sel >= 6), their multiply-adds follow it. */
_Static_assert(OMPB__ES_NEG == 6 && OMPB__ES_COUNT == 12 && OMPB__KSEL_FMA == 12 &&
                   OMPB__KSEL_FMAC == OMPB__KSEL_FMA + 3 &&
                   OMPB__ET_FMA == 0 && OMPB__ET_FMS == 1 && OMPB__ET_FNMA == 2,
               "the nt_sel_ kernels' epilogue index");

/* Whether the program ends in a kernel K with an nt_sel_ form and a run
 * of one operation that reads K's result once, as a select's then against
 * a constant (where(x > 0, log(x), -x)) or as the first factor or the
 * addend of a multiply-add by a constant (2*sin(x) + t, 2*t + exp(u)),
 * and writes out. Sets
 * w->ksel32 or w->ksel64. */
static void plan_ksel(struct xwork *w) {
  const ompb_expr *e = w->e;
  w->ksel32 = NULL;
  w->ksel64 = NULL;
  if (!w->nt_run || e->nins < 2 || e->nslots > KSEL_MAX_SLOTS) return;
  const struct ompb__xins *k = &e->ins[e->nins - 2], *l = &e->ins[e->nins - 1];
  if (k->kind != OMPB__XI_K1 || k->has_params || l->kind != OMPB__XI_FUSED) return;
  const bool has = w->f64 ? w->t->nt_sel_f64[k->op] != NULL : w->t->nt_sel_f32[k->op] != NULL;
  const struct ompb__xprun *r = &e->runs[l->a];
  if (!has || r->run.nops != 1 || r->run.nint != 0) return;
  const struct ompb__xrop *o = &r->run.ops[0];
  if ((int)o->dst != r->out_ext) return;
  if (o->code >= OMPB__XR_SELK && o->code < OMPB__XR_SELK + OMPB__ES_COUNT) {
    /* (a CMP p0) ? c : d */
    if (r->ext[o->c] != k->dst || r->ext[o->a] == k->dst || r->ext[o->d] == k->dst) return;
    w->ksel_c = r->ext[o->a];
    w->ksel_f = r->ext[o->d];
    w->ksel_sel = (unsigned)(o->code - OMPB__XR_SELK);
  } else if (o->code >= OMPB__XR_TRIK && o->code <= OMPB__XR_TRIK + OMPB__ET_FNMA) {
    /* fma(a, p0, c), fma(a, p0, -c), fma(-a, p0, c): K's result a or c */
    const bool ka = r->ext[o->a] == k->dst, kc = r->ext[o->c] == k->dst;
    if (ka == kc) return;
    w->ksel_c = w->ksel_f = r->ext[ka ? o->c : o->a];
    w->ksel_sel = (ka ? OMPB__KSEL_FMA : OMPB__KSEL_FMAC) + (unsigned)(o->code - OMPB__XR_TRIK);
  } else {
    return;
  }
  if (w->f64) w->ksel64 = w->t->nt_sel_f64[k->op];
  else w->ksel32 = w->t->nt_sel_f32[k->op];
  w->ksel_in = k->a;
  w->ksel_k = w->f64 ? o->pd[0] : (double)o->pf[0];
}

/* How the program runs a block: whether its last instruction streams out
 * itself, its passes and kernel-call splits (w->e, t, f64 set). */
static void plan(struct xwork *w) {
  const ompb_expr *e = w->e;
  const struct ompb__xins *last = e->nins > 0 ? &e->ins[e->nins - 1] : NULL;
  w->nt_run = last && ((last->kind == OMPB__XI_FUSED && e->runs[last->a].out_ext >= 0) ||
                       (last->kind == OMPB__XI_K1 &&
                        (w->f64 ? w->t->nt_f64[last->op] != NULL
                                : w->t->nt_f32[last->op] != NULL)));
  w->sub = e->red < 0 && w->f64 && e->nins > 1 ? XPASS_F64 : 0;
  w->kcall = w->sub ? XKCALL_F64 : 0;
  plan_ksel(w);
}

static bool overlap(const void *a, size_t na, const void *b, size_t nb) {
  uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
  return pa < pb + nb && pb < pa + na;
}

static int start(ompb_pool *pool, const ompb_expr *e, const void *const *inputs, size_t n,
                 void *out, const ompb_map_opts *opts, size_t esize, bool sync,
                 ompb_batch **out_batch) {
  *out_batch = NULL;
  if (!pool || !e || !out) return OMPB_EINVAL;
  if (ompb__mul(n, esize) == SIZE_MAX) return OMPB_EINVAL;
  bool red = e->red >= 0;
  if (red && n == 0 && (e->red == OMPB__ER_MIN || e->red == OMPB__ER_MAX)) return OMPB_EINVAL;
  if (e->nused > 0 && n > 0 && !inputs) return OMPB_EINVAL;
  size_t out_bytes = (red ? 1 : n) * esize;
  for (size_t j = 0; n > 0 && j < e->nused; j++) {
    const void *in = inputs[e->used[j]];
    if (!in) return OMPB_EINVAL;
    if (in != out && overlap(in, n * esize, out, out_bytes)) return OMPB_EINVAL;
  }
  ompb_batch_opts bo = {0};
  if (opts) {
    bo = opts->batch;
    bo.task_timeout_ms = 0;
    bo.fail_fast = false;
    bo.on_result = NULL;
    bo.result_free = NULL;
  }
  bo.discard_results = true;
  if (opts && (ompb__bad_ms(opts->batch.task_timeout_ms))) return OMPB_EINVAL;
  ompb_batch *b;
  int rc = ompb__batch_new(pool, &expr_ops, n, &bo, sizeof(struct xwork), &b);
  if (rc != OMPB_OK) return rc;
  struct xwork *w = OMPB__WORK(b, struct xwork);
  w->e = e;
  w->t = ompb__simd_active();
  w->x = ompb__expr_ops_active();
  w->out = out;
  w->n = n;
  w->esize = esize;
  w->f64 = esize == sizeof(double);
  /* arrays off their element's alignment go through copies; streaming
   * stores need out aligned to its element (the head steps then reach a
   * 64-byte boundary) */
  w->unaligned = !red && (uintptr_t)out % esize != 0;
  for (size_t j = 0; n > 0 && j < e->nused; j++)
    w->unaligned |= (uintptr_t)inputs[e->used[j]] % esize != 0;
  w->stream = !red && !w->unaligned && w->t->stream_f32 && n >= ompb__stream_min() / esize;
  w->nscratch = b->nslots;
  plan(w);
  w->in = ompb__calloc(e->nused ? e->nused : 1, sizeof *w->in);
  w->scratch = ompb__calloc(b->nslots ? b->nslots : 1, sizeof *w->scratch);
  if (red) w->partials = ompb__calloc(n / XBLOCK + 1, sizeof *w->partials);
  if (!w->in || !w->scratch || (red && !w->partials)) {
    ompb__batch_discard(b);
    return OMPB_ENOMEM;
  }
  for (size_t j = 0; n > 0 && j < e->nused; j++) w->in[j] = inputs[e->used[j]];
  size_t chunk = opts ? opts->chunk_size : 0;
  b->chunk = chunk ? ((chunk + XBLOCK - 1) / XBLOCK) * XBLOCK : auto_claim(b->nslots, n);
  return ompb__launch(b, sync, out_batch);
}

/* The synchronous form: start, wait, and the code of how it ended. */
static int eval(ompb_pool *pool, const ompb_expr *e, const void *const *inputs, size_t n,
                void *out, const ompb_map_opts *opts, size_t esize) {
  ompb_batch *b;
  int rc = start(pool, e, inputs, n, out, opts, esize, true, &b);
  ompb_result *res = NULL;
  rc = ompb__wait_and_free(rc, b, &res);
  if (rc == OMPB_OK && res && res->cancelled) rc = OMPB_ECANCELED;
  ompb_result_free(res);
  return rc;
}

int ompb_expr_eval_f32(ompb_pool *pool, const ompb_expr *e, const float *const *inputs, size_t n,
                       float *out, const ompb_map_opts *opts) {
  return eval(pool, e, (const void *const *)inputs, n, out, opts, sizeof(float));
}

int ompb_expr_eval_f64(ompb_pool *pool, const ompb_expr *e, const double *const *inputs,
                       size_t n, double *out, const ompb_map_opts *opts) {
  return eval(pool, e, (const void *const *)inputs, n, out, opts, sizeof(double));
}

int ompb_expr_eval_start_f32(ompb_pool *pool, const ompb_expr *e, const float *const *inputs,
                             size_t n, float *out, const ompb_map_opts *opts,
                             ompb_batch **out_batch) {
  if (!out_batch) return OMPB_EINVAL;
  return start(pool, e, (const void *const *)inputs, n, out, opts, sizeof(float), false,
               out_batch);
}

int ompb_expr_eval_start_f64(ompb_pool *pool, const ompb_expr *e, const double *const *inputs,
                             size_t n, double *out, const ompb_map_opts *opts,
                             ompb_batch **out_batch) {
  if (!out_batch) return OMPB_EINVAL;
  return start(pool, e, (const void *const *)inputs, n, out, opts, sizeof(double), false,
               out_batch);
}

/* ---- perf/bench_expr's "prog" column (src/expr_prog.h) ---- */
struct ompb__xbench {
  struct xwork w;
  void **p;
  const char **in;
};

ompb__xbench *ompb__xbench_new(const ompb_expr *e, bool f64) {
  if (!e || e->red >= 0) return NULL;
  ompb__xbench *h = ompb__calloc(1, sizeof *h);
  if (!h) return NULL;
  struct xwork *w = &h->w;
  w->e = e;
  w->t = ompb__simd_active();
  w->x = ompb__expr_ops_active();
  w->esize = f64 ? sizeof(double) : sizeof(float);
  w->f64 = f64;
  plan(w);
  h->p = make_scratch(w);
  h->in = ompb__calloc(e->nused ? e->nused : 1, sizeof *h->in);
  w->in = h->in;
  if (!h->p || !h->in) {
    ompb__xbench_free(h);
    return NULL;
  }
  return h;
}

void ompb__xbench_block(ompb__xbench *h, const void *const *in, void *out, size_t m) {
  struct xwork *w = &h->w;
  for (size_t j = 0; j < w->e->nused; j++) h->in[j] = in[j];
  w->out = out;
  w->n = m;
  run_block(w, h->p, 0, m, TO_OUT);
}

void ompb__xbench_free(ompb__xbench *h) {
  if (!h) return;
  ompb__free(h->p);
  ompb__free(h->in);
  ompb__free(h);
}
