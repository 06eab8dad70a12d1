/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch eval EXPR NAME=FILE ... [-o OUT]: a fused array expression
 * (include/ompbatch/expr.h) over .npy files, in one pass over memory, on a
 * pool. The steps: read the command line, compile EXPR over the NAMEs
 * (an error shows EXPR with a caret under its position), catch signals,
 * open the inputs, check their shapes, convert what is not native floats
 * of the evaluation dtype, create OUT with its header, evaluate as one
 * batch, commit or drop OUT (or print a reduction's value).
 *
 * Many sets of files: a NAME given several times (x=a1.npy x=a2.npy) is
 * bound to one file per set, set k taking the k-th file of every such NAME
 * (a NAME given once is shared by every set); each set is one task of one
 * batch (jobs.c) writing --out-dir DIR/BASENAME or -o's pattern with
 * {stem}, the file stem of the set's first such input. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "args.h"
#include "cli.h"
#include "convert.h"
#include "input.h"
#include "jobs.h"
#include "npy.h"
#include "ompbatch.h"
#include "output.h"
#include "progress.h"
#include "signals.h"

/* Elements one task evaluates between two checks of cancel (many sets). */
#define EVAL_STEP ((size_t)1 << 20)

static void print_functions(FILE *f) {
  fprintf(f, "functions (ULP: the bound of the kernel behind it, f32/f64):\n");
  for (size_t i = 0; i < ompb_expr_func_count(); i++) {
    const ompb_expr_func *fn = ompb_expr_func_at(i);
    static const char *const args[] = {"()", "(x)", "(a, b)", "(c, a, b)"};
    char sig[64], ulp[32] = "";
    snprintf(sig, sizeof sig, "%s%s", fn->name,
             args[fn->nargs < 4 ? fn->nargs : 0]);
    if (fn->kernel)
      snprintf(ulp, sizeof ulp, "%g/%g", fn->kernel->ulp_f32, fn->kernel->ulp_f64);
    fprintf(f, "  %-20s %-9s %s\n", sig, ulp, fn->what);
  }
}

static void usage_short(FILE *f) {
  fprintf(f,
          "usage: %s eval EXPR NAME=FILE ... [-o OUT] [--dtype f32|f64] [--threads N]\n"
          "                    [--progress MODE] [--no-progress]\n"
          "       %s eval EXPR NAME=FILE NAME=FILE ... (--out-dir DIR | -o PATTERN)\n"
          "                    [--jobs N] [--fail-fast] [...]\n"
          "(`%s eval --help` lists the functions and operators)\n",
          CLI_PROG, CLI_PROG, CLI_PROG);
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: %s eval EXPR NAME=FILE ... [-o OUT] [--dtype f32|f64] [--threads N]\n"
          "                    [--progress MODE] [--no-progress]\n"
          "       %s eval EXPR NAME=FILE NAME=FILE ... (--out-dir DIR | -o PATTERN)\n"
          "                    [--jobs N] [--fail-fast] [...]\n"
          "\n"
          "Evaluate the expression EXPR (numexpr's syntax) over .npy files, every\n"
          "element in one pass over memory, and write OUT as a .npy file. Each\n"
          "NAME=FILE binds a name of EXPR to an array file: all of one shape (a\n"
          "one-element array broadcasts as a scalar), C or Fortran order, either\n"
          "byte order, float32/float64, integers or booleans. OUT has the inputs'\n"
          "shape and order; its dtype is float64 when any input is float64, an\n"
          "integer or a boolean, else float32 (or --dtype). A reduction (sum, prod,\n"
          "min, max, mean as the outermost call) writes a 0-d .npy to OUT, or\n"
          "prints its value when -o is omitted. OUT may be one of the inputs: it\n"
          "is written to a temporary file and renamed at the end, so an error or\n"
          "Ctrl-C leaves OUT as it was. An EXPR that starts with '-' needs `--`\n"
          "before it (or a leading space).\n"
          "\n"
          "Many sets: a NAME given several times takes one file per set (set k:\n"
          "the k-th file of every such NAME; a NAME given once is shared), all\n"
          "sets run as one batch; outputs go to --out-dir DIR (DIR/BASENAME of the\n"
          "set's first repeated input) or to -o PATTERN, where {stem} is that\n"
          "input's file name without its extension. A set that fails is named on\n"
          "stderr, the others go on (exit 1 at the end). Reductions without an\n"
          "output print `FILE<TAB>VALUE` per set.\n"
          "\n"
          "  -o OUT          the output file (a pattern with {stem} for many sets)\n"
          "  --out-dir DIR   many sets: write DIR/BASENAME for each set\n"
          "  --dtype T       f32 or f64: evaluate and write in that type\n"
          "  --threads N     workers in the pool (default: OpenMP's maximum)\n"
          "  --jobs N        many sets: sets at once (default: the workers)\n"
          "  --fail-fast     many sets: stop at the first failed set\n"
          "  --progress M    bar (default; drawn only when stderr is a terminal),\n"
          "                  lines (one plain line a second) or none; default from\n"
          "                  OMPB_PROGRESS=0|1|lines\n"
          "  --no-progress   the same as --progress none\n"
          "\n"
          "operators, loosest first: comparisons < <= > >= == != (1 or 0; they do\n"
          "not chain); | (or); ^ (xor); & (and); + -; * / // %% (// numpy's\n"
          "floor_divide, %% its remainder: the divisor's sign); unary - + ~ (not);\n"
          "** (right-associative, tighter than unary minus: -x**2 is -(x**2));\n"
          "parentheses. & | ^ ~ take non-zero (and NaN) as true and give 1 or 0:\n"
          "where((x > 0) & (y < 1), x, y). Numbers: 2, 2.5, .5, 1e-3, True (1),\n"
          "False (0).\n"
          "\n",
          CLI_PROG, CLI_PROG);
  print_functions(f);
  fprintf(f,
          "\n"
          "exit codes: 0 ok, 1 I/O or run-time error (or a set failed), 2 usage\n"
          "error or an error in EXPR (shown with a caret) or an unbound name,\n"
          "4 unsupported input or inputs of different shapes, 5 corrupt input,\n"
          "130 interrupted.\n");
}

/* ---- the command line ------------------------------------------------------ */

typedef struct {
  char *name;         /* NAME (owned) */
  const char **files; /* its files, in command-line order (owned array) */
  size_t nfiles;
} binding;

typedef struct {
  const char *expr, *out, *out_dir, *progress;
  binding *vars;
  size_t nvars, nsets;
  size_t stem_var; /* the binding whose file names the set's output */
  size_t dtype;    /* 0: from the inputs; 4 or 8 */
  unsigned long long threads, jobs;
  bool fail_fast, many;
  cli_progress_mode mode;
} eval_args;

enum { OPT_OUT, OPT_OUT_DIR, OPT_DTYPE, OPT_THREADS, OPT_JOBS, OPT_FAIL_FAST,
       OPT_PROGRESS, OPT_NO_PROGRESS };
static const cli_option options[] = {
    [OPT_OUT] = {"-o", true},          [OPT_OUT_DIR] = {"--out-dir", true},
    [OPT_DTYPE] = {"--dtype", true},   [OPT_THREADS] = {"--threads", true},
    [OPT_JOBS] = {"--jobs", true},     [OPT_FAIL_FAST] = {"--fail-fast", false},
    [OPT_PROGRESS] = {"--progress", true},
    [OPT_NO_PROGRESS] = {"--no-progress", false},
};

static void free_args(eval_args *a) {
  for (size_t i = 0; i < a->nvars; i++) {
    free(a->vars[i].name);
    free(a->vars[i].files);
  }
  free(a->vars);
  a->vars = NULL;
  a->nvars = 0;
}

static bool is_identifier(const char *s, size_t n) {
  if (n == 0 || !(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') ||
                  (s[0] >= 'a' && s[0] <= 'z')))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!(s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') ||
          (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
      return false;
  return true;
}

static bool is_function(const char *name) {
  for (size_t i = 0; i < ompb_expr_func_count(); i++)
    if (!strcmp(ompb_expr_func_at(i)->name, name))
      return true;
  return false;
}

/* NAME=FILE into a->vars (a NAME seen before gets one more file). */
static int add_binding(eval_args *a, const char *word) {
  const char *eq = strchr(word, '=');
  if (!eq)
    return cli_usage_error(usage_short, "'%s' is not NAME=FILE", word);
  size_t n = (size_t)(eq - word);
  if (!is_identifier(word, n))
    return cli_usage_error(usage_short, "'%.*s' (in '%s') is not a valid name: "
                           "[A-Za-z_][A-Za-z0-9_]*", (int)n, word, word);
  if (!eq[1])
    return cli_usage_error(usage_short, "'%s': no file after '='", word);
  binding *b = NULL;
  for (size_t i = 0; i < a->nvars; i++)
    if (strlen(a->vars[i].name) == n && !memcmp(a->vars[i].name, word, n))
      b = &a->vars[i];
  if (!b) {
    binding *v = realloc(a->vars, (a->nvars + 1) * sizeof *v);
    if (!v)
      goto oom;
    a->vars = v;
    b = &a->vars[a->nvars];
    *b = (binding){.name = malloc(n + 1)};
    if (!b->name)
      goto oom;
    memcpy(b->name, word, n);
    b->name[n] = '\0';
    a->nvars++;
    if (is_function(b->name))
      return cli_usage_error(usage_short, "'%s' is a function name: it cannot "
                             "name an input", b->name);
  }
  const char **f = realloc(b->files, (b->nfiles + 1) * sizeof *f);
  if (!f)
    goto oom;
  b->files = f;
  b->files[b->nfiles++] = eq + 1;
  return EX_OK;
oom:
  cli_error("out of memory");
  return EX_FAIL;
}

static int set_option(eval_args *a, int id, const char *val) {
  switch (id) {
  case OPT_OUT:
    if (!*val)
      return cli_usage_error(usage_short, "-o: empty file name");
    a->out = val;
    return EX_OK;
  case OPT_OUT_DIR:
    if (!*val)
      return cli_usage_error(usage_short, "--out-dir: empty directory name");
    a->out_dir = val;
    return EX_OK;
  case OPT_DTYPE:
    if (!strcmp(val, "f32") || !strcmp(val, "float32"))
      a->dtype = 4;
    else if (!strcmp(val, "f64") || !strcmp(val, "float64"))
      a->dtype = 8;
    else
      return cli_usage_error(usage_short, "--dtype: '%s' is not f32 or f64", val);
    return EX_OK;
  case OPT_THREADS:
    if (!cli_parse_count(val, 4096, &a->threads))
      return cli_usage_error(usage_short, "--threads: '%s' is not in 1..4096", val);
    return EX_OK;
  case OPT_JOBS:
    if (!cli_parse_count(val, 4096, &a->jobs))
      return cli_usage_error(usage_short, "--jobs: '%s' is not in 1..4096", val);
    return EX_OK;
  case OPT_FAIL_FAST:
    a->fail_fast = true;
    return EX_OK;
  case OPT_PROGRESS:
    a->progress = val;
    return EX_OK;
  default: /* OPT_NO_PROGRESS */
    a->progress = "none";
    return EX_OK;
  }
}

/* How many sets the bindings make, and which binding names each set. */
static int count_sets(eval_args *a) {
  a->nsets = 1;
  for (size_t i = 0; i < a->nvars; i++) {
    size_t k = a->vars[i].nfiles;
    if (k == 1)
      continue;
    if (a->nsets > 1 && k != a->nsets)
      return cli_usage_error(usage_short, "%s has %zu files and %s %zu: a NAME "
                             "takes one file, or as many as every other "
                             "repeated NAME", a->vars[a->stem_var].name,
                             a->nsets, a->vars[i].name, k);
    if (a->nsets == 1) {
      a->nsets = k;
      a->stem_var = i;
    }
  }
  return EX_OK;
}

static int parse_args(int argc, char **argv, eval_args *a) {
  *a = (eval_args){0};
  cli_args it = cli_args_begin(argc, argv, options,
                               (int)(sizeof options / sizeof options[0]), usage_short);
  it.dash_operands = true; /* EXPR may start with a minus: -x**2 */
  int rc = EX_OK;
  while (rc == EX_OK) {
    const char *val;
    int id = cli_args_next(&it, &val);
    if (id == CLI_ARGS_END)
      break;
    if (id == CLI_ARGS_ERROR)
      rc = EX_USAGE;
    else if (id == CLI_ARGS_OPERAND && !a->expr)
      a->expr = val;
    else if (id == CLI_ARGS_OPERAND)
      rc = add_binding(a, val);
    else
      rc = set_option(a, id, val);
  }
  if (rc == EX_OK && !a->expr)
    rc = cli_usage_error(usage_short, "eval needs EXPR");
  if (rc == EX_OK)
    rc = cli_progress_choose(a->progress, usage_short, &a->mode);
  if (rc == EX_OK)
    rc = count_sets(a);
  if (rc != EX_OK)
    return rc;
  bool pattern = a->out && strstr(a->out, "{stem}");
  a->many = a->nsets > 1 || a->out_dir;
  if (a->out && a->out_dir)
    return cli_usage_error(usage_short, "give -o or --out-dir, not both");
  if (a->nsets > 1 && a->out && !pattern)
    return cli_usage_error(usage_short, "-o %s: %zu sets of files need {stem} in "
                           "the name (or --out-dir)", a->out, a->nsets);
  if (pattern && a->nvars == 0)
    return cli_usage_error(usage_short, "-o %s: {stem} needs an input", a->out);
  if (!a->many && (a->jobs || a->fail_fast))
    return cli_usage_error(usage_short, "--jobs and --fail-fast need many sets "
                           "(a NAME given several times) or --out-dir");
  return EX_OK;
}

/* ---- the expression -------------------------------------------------------- */

/* EXPR on one line and a caret under byte `pos` (tabs kept, so that the
 * caret lines up; UTF-8 continuation bytes take no column). */
static void show_position(const char *expr, size_t pos) {
  size_t len = strlen(expr);
  if (pos > len)
    pos = len;
  char *line = malloc(2 * len + 16);
  if (!line)
    return; /* the message was printed: the picture is extra */
  size_t n = 0;
  line[n++] = ' ';
  line[n++] = ' ';
  for (size_t i = 0; i < len; i++)
    line[n++] = expr[i] == '\n' || expr[i] == '\r' ? ' ' : expr[i];
  line[n++] = '\n';
  line[n++] = ' ';
  line[n++] = ' ';
  for (size_t i = 0; i < pos; i++)
    if (((unsigned char)expr[i] & 0xC0) != 0x80)
      line[n++] = expr[i] == '\t' ? '\t' : ' ';
  line[n++] = '^';
  line[n++] = '\n';
  line[n] = '\0';
  fputs(line, stderr);
  free(line);
}

static int compile(const eval_args *a, ompb_expr **e) {
  const char **names = calloc(a->nvars ? a->nvars : 1, sizeof *names);
  if (!names) {
    cli_error("out of memory");
    return EX_FAIL;
  }
  for (size_t i = 0; i < a->nvars; i++)
    names[i] = a->vars[i].name;
  ompb_expr_diag d = {0};
  int rc = ompb_expr_compile(a->expr, names, a->nvars, e, &d);
  free(names);
  if (rc == OMPB_OK)
    return EX_OK;
  if (rc == OMPB_ENOMEM) {
    cli_error("out of memory");
    return EX_FAIL;
  }
  cli_error("error in the expression at byte %zu: %s", d.pos,
            d.message[0] ? d.message : ompb_strerror(rc));
  show_position(a->expr, d.pos);
  return EX_USAGE;
}

/* ---- one set of files ------------------------------------------------------ */

typedef struct eval_many eval_many;

typedef struct {
  const eval_args *a;
  const ompb_expr *e;
  eval_many *m;        /* many sets: the run's shared state; else NULL */
  size_t set;          /* index of the set */
  char *out;           /* the output path (owned), or NULL: print */
  const char *label;   /* the file naming the set in messages */
  size_t bytes;        /* the inputs' sizes (this set's share of the bar) */
  cli_input *ins;      /* a->nvars inputs */
  void **bufs;         /* converted copies (owned), or NULL */
  const void **ptrs;   /* what the evaluation reads, per variable */
  npy_header shape;    /* the output's shape and order */
  size_t esize;
  double value;        /* a reduction's result */
  bool have_value;
} eval_set;

struct eval_many {
  atomic_size_t done; /* input bytes handled, over all sets */
};

static const char *set_file(const eval_set *s, size_t v) {
  const binding *b = &s->a->vars[v];
  return b->files[b->nfiles == 1 ? 0 : s->set];
}

static void shape_text(char *buf, size_t cap, const npy_header *h) {
  size_t n = (size_t)snprintf(buf, cap, "(");
  for (int i = 0; i < h->ndim && n < cap; i++)
    n += (size_t)snprintf(buf + n, cap - n, i ? ", %zu" : "%zu", h->shape[i]);
  if (n < cap)
    snprintf(buf + n, cap - n, "%s)", h->ndim == 1 ? "," : "");
}

static bool same_shape(const npy_header *x, const npy_header *y) {
  if (x->ndim != y->ndim)
    return false;
  for (int i = 0; i < x->ndim; i++)
    if (x->shape[i] != y->shape[i])
      return false;
  return true;
}

/* Open the set's inputs; EX_OK or an exit code after a message. */
static int open_inputs(eval_set *s) {
  size_t nv = s->a->nvars;
  s->ins = calloc(nv ? nv : 1, sizeof *s->ins);
  s->bufs = calloc(nv ? nv : 1, sizeof *s->bufs);
  s->ptrs = calloc(nv ? nv : 1, sizeof *s->ptrs);
  if (!s->ins || !s->bufs || !s->ptrs) {
    cli_error("out of memory");
    return EX_FAIL;
  }
  for (size_t v = 0; v < nv; v++)
    s->ins[v] = (cli_input){.guard = -1};
  for (size_t v = 0; v < nv; v++) {
    int rc = cli_input_open(set_file(s, v), 0, &s->ins[v]);
    if (rc != EX_OK)
      return rc;
  }
  return EX_OK;
}

/* The output's shape: the inputs' one shape, a one-element input
 * broadcasting; and the evaluation dtype. EX_OK or EX_UNSUPPORTED. */
static int check_shapes(eval_set *s) {
  size_t nv = s->a->nvars, full = nv;
  for (size_t v = 0; v < nv && full == nv; v++)
    if (s->ins[v].header.count != 1)
      full = v;
  if (full == nv) {
    /* Only one-element inputs: the most dimensions win, as numpy's do. */
    s->shape = (npy_header){.ndim = 0, .count = 1};
    for (size_t v = 0; v < nv; v++)
      if (s->ins[v].header.ndim > s->shape.ndim)
        s->shape = s->ins[v].header;
  } else {
    s->shape = s->ins[full].header;
  }
  for (size_t v = 0; full < nv && v < nv; v++) {
    const npy_header *h = &s->ins[v].header;
    char x[64], y[64];
    if (h->count == 1 && v != full)
      continue;
    if (!same_shape(h, &s->shape)) {
      shape_text(x, sizeof x, &s->shape);
      shape_text(y, sizeof y, h);
      cli_error("%s has shape %s, %s %s: the inputs must have one shape (or "
                "one element)", set_file(s, full), x, set_file(s, v), y);
      return EX_UNSUPPORTED;
    }
    if (npy_order_matters(h) && !h->fortran != !s->shape.fortran) {
      cli_error("%s is in %s order, %s in %s order: the inputs must have one "
                "memory order", set_file(s, full), s->shape.fortran ? "Fortran" : "C",
                set_file(s, v), h->fortran ? "Fortran" : "C");
      return EX_UNSUPPORTED;
    }
  }
  s->esize = s->a->dtype;
  if (!s->esize) {
    s->esize = nv ? 4 : 8;
    for (size_t v = 0; v < nv; v++)
      if (s->ins[v].header.kind != 'f' || s->ins[v].header.elem_size == 8)
        s->esize = 8;
  }
  return EX_OK;
}

/* What the evaluation reads: the mapped data where it is native floats of
 * the dtype, else a converted (or broadcast) copy. */
static int prepare_inputs(eval_set *s) {
  size_t n = s->shape.count;
  for (size_t v = 0; v < s->a->nvars; v++) {
    const npy_header *h = &s->ins[v].header;
    const unsigned char *data = s->ins[v].file + h->data_offset;
    if (!ompb_expr_uses(s->e, v) || n == 0)
      continue; /* never read */
    if (h->count == n && cli_convert_direct(h, data, s->esize)) {
      s->ptrs[v] = data;
      continue;
    }
    size_t bytes = (n * s->esize + 63) / 64 * 64;
    if (n > SIZE_MAX / s->esize - 64 || !(s->bufs[v] = aligned_alloc(64, bytes))) {
      cli_error("%s: out of memory (converting %zu elements)", set_file(s, v), n);
      return EX_FAIL;
    }
    if (h->count == n) {
      cli_convert(h, data, n, s->bufs[v], s->esize);
    } else { /* one element, broadcast */
      double one;
      cli_convert(h, data, 1, &one, s->esize);
      cli_convert_fill(s->bufs[v], n, &one, s->esize);
    }
    s->ptrs[v] = s->bufs[v];
  }
  return EX_OK;
}

/* The temporary file of OUT with its header; *data: where the result goes. */
static int create_output(eval_set *s, cli_output *o, unsigned char **data) {
  char header[4096];
  bool red = ompb_expr_is_reduction(s->e);
  const npy_header *h = &s->shape;
  size_t count = red ? 1 : h->count;
  size_t hlen = npy_format_header(header, sizeof header, s->esize,
                                  red ? 0 : h->fortran, red ? 0 : h->ndim, h->shape);
  if (hlen == 0 || count > (SIZE_MAX - hlen) / s->esize) {
    cli_error("%s: array too large", s->out);
    return EX_FAIL;
  }
  int rc = cli_output_create(o, s->out, hlen + count * s->esize);
  if (rc != EX_OK)
    return rc;
  memcpy(o->map, header, hlen);
  *data = (unsigned char *)o->map + hlen;
  return EX_OK;
}

/* A failed evaluation's message. Returns EX_FAIL. */
static int eval_failed(const eval_set *s, int rc) {
  if (rc == OMPB_EINVAL && s->shape.count == 0 && ompb_expr_is_reduction(s->e))
    cli_error("%s: the reduction of an empty array has no value (min, max)",
              s->label);
  else
    cli_error("%s: the evaluation failed: %s", s->label, ompb_strerror(rc));
  return EX_FAIL;
}

/* Which input shrank, said; EX_FAIL. */
static int inputs_lost(const eval_set *s) {
  for (size_t v = 0; v < s->a->nvars; v++)
    if (cli_input_lost(&s->ins[v]))
      cli_error("%s: the file shrank while it was read (truncated by another "
                "program?)", set_file(s, v));
  return EX_FAIL;
}

static bool any_lost(const eval_set *s) {
  for (size_t v = 0; v < s->a->nvars; v++)
    if (cli_input_lost(&s->ins[v]))
      return true;
  return false;
}

/* Evaluate into dst (n elements, or 1 for a reduction) as one batch with
 * the progress display and Ctrl-C: the one-set form. */
static int evaluate_batch(eval_set *s, ompb_pool *pool, void *dst) {
  size_t n = s->shape.count;
  cli_progress bar;
  cli_progress_init(&bar, "eval", n, false, s->a->mode);
  ompb_map_opts mo = {.batch = {.on_progress = cli_progress_report,
                                .progress_throttle_ms = cli_progress_throttle_ms(&bar),
                                .user = &bar}};
  ompb_batch *b = NULL;
  int rc = s->esize == 4
               ? ompb_expr_eval_start_f32(pool, s->e, (const float *const *)s->ptrs,
                                          n, dst, &mo, &b)
               : ompb_expr_eval_start_f64(pool, s->e, (const double *const *)s->ptrs,
                                          n, dst, &mo, &b);
  if (rc != OMPB_OK)
    return eval_failed(s, rc);
  int crc = cli_signals_watch(b);
  if (crc != OMPB_OK)
    cli_error("cannot cancel the evaluation: %s", ompb_strerror(crc));
  ompb_result *res = NULL;
  int wrc = ompb_batch_wait(b, &res);
  int err = cli_signals_stop();
  if (err == 0)
    ompb_batch_free(b); /* else the watcher may still use it: left to the exit */
  cli_progress_end(&bar);
  if (err != 0) {
    cli_error("cannot stop the signal watcher: %s", strerror(err));
    rc = EX_FAIL;
  } else if (cli_signals_caught()) {
    rc = EX_INTERRUPTED;
  } else if (any_lost(s)) {
    rc = inputs_lost(s);
  } else if (crc != OMPB_OK) {
    rc = EX_FAIL;
  } else if (wrc != OMPB_OK || !res || res->cancelled) {
    rc = eval_failed(s, wrc != OMPB_OK ? wrc : OMPB_ECANCELED);
  } else {
    rc = EX_OK;
  }
  ompb_result_free(res);
  return rc;
}

/* Evaluate into dst from inside a task of the many-set batch: in steps
 * (the evaluation runs in the task's team), checking for a cancel between
 * them; a reduction in one call. */
static int evaluate_steps(ompb_ctx *ctx, eval_set *s, ompb_pool *pool,
                          unsigned char *dst, size_t *added) {
  size_t n = s->shape.count, nv = s->a->nvars;
  bool red = ompb_expr_is_reduction(s->e);
  size_t step = red ? (n ? n : 1) : EVAL_STEP;
  const void **at = calloc(nv ? nv : 1, sizeof *at);
  if (!at) {
    cli_error("out of memory");
    return EX_FAIL;
  }
  int rc = EX_OK;
  for (size_t i = 0; rc == EX_OK && (i < n || (red && i == 0)); i += step) {
    if (ompb_ctx_should_stop(ctx)) {
      rc = OMPB_ECANCELED;
      break;
    }
    size_t k = red ? n : (n - i < step ? n - i : step);
    for (size_t v = 0; v < nv; v++)
      at[v] = s->ptrs[v] ? (const unsigned char *)s->ptrs[v] + i * s->esize : NULL;
    int r = s->esize == 4
                ? ompb_expr_eval_f32(pool, s->e, (const float *const *)at, k,
                                     (float *)(void *)(dst + (red ? 0 : i * s->esize)),
                                     NULL)
                : ompb_expr_eval_f64(pool, s->e, (const double *const *)at, k,
                                     (double *)(void *)(dst + (red ? 0 : i * s->esize)),
                                     NULL);
    if (r != OMPB_OK)
      rc = eval_failed(s, r);
    else if (any_lost(s))
      rc = inputs_lost(s);
    size_t share = n ? (size_t)((double)s->bytes * (double)k / (double)n) : 0;
    if (share > s->bytes - *added)
      share = s->bytes - *added;
    atomic_fetch_add(&s->m->done, share);
    *added += share;
  }
  free(at);
  return rc;
}

/* Everything of one set: open, check, convert, evaluate, commit. ctx is
 * NULL for the one-set form (a batch with progress and Ctrl-C of its own),
 * else the task's. */
static int run_set(eval_set *s, ompb_pool *pool, ompb_ctx *ctx) {
  cli_output o = {.fd = -1};
  unsigned char *dst = NULL;
  size_t added = 0;
  bool red = ompb_expr_is_reduction(s->e);
  union {
    float f;
    double d;
  } one = {0};
  int rc = ctx && ompb_ctx_should_stop(ctx) ? OMPB_ECANCELED : open_inputs(s);
  if (rc == EX_OK)
    rc = check_shapes(s);
  if (rc == EX_OK)
    rc = prepare_inputs(s);
  if (rc == EX_OK && s->out)
    rc = create_output(s, &o, &dst);
  if (rc == EX_OK && !s->out)
    dst = (unsigned char *)&one;
  if (rc == EX_OK && (s->shape.count > 0 || red))
    rc = ctx ? evaluate_steps(ctx, s, pool, dst, &added)
             : evaluate_batch(s, pool, dst);
  if (rc == EX_OK && red) {
    double v;
    if (s->esize == 4) {
      float f;
      memcpy(&f, dst, sizeof f);
      v = f;
    } else {
      memcpy(&v, dst, sizeof v);
    }
    s->value = v;
    s->have_value = true;
  }
  for (size_t v = 0; s->ins && v < s->a->nvars; v++) {
    int irc = cli_input_close(&s->ins[v], set_file(s, v));
    if (rc == EX_OK)
      rc = irc;
  }
  if (!ctx) {
    int err = cli_signals_stop();
    if (err != 0 && rc == EX_OK) {
      cli_error("cannot stop the signal watcher: %s", strerror(err));
      rc = EX_FAIL;
    }
  }
  if (rc == EX_OK)
    rc = cli_output_flush(&o);
  /* The last moment a signal can still undo the set: just before the
   * rename that commits. */
  if (rc == EX_OK && cli_signals_caught())
    rc = ctx ? OMPB_ECANCELED : EX_INTERRUPTED;
  int orc = cli_output_finish(&o, rc == EX_OK);
  if (rc == EX_OK)
    rc = orc;
  if (rc != EX_OK)
    s->have_value = false;
  for (size_t v = 0; s->bufs && v < s->a->nvars; v++)
    free(s->bufs[v]);
  free(s->bufs);
  free(s->ptrs);
  free(s->ins);
  s->bufs = NULL;
  s->ptrs = NULL;
  s->ins = NULL;
  if (ctx && s->bytes > added)
    atomic_fetch_add(&s->m->done, s->bytes - added);
  return rc;
}

/* ---- many sets ------------------------------------------------------------- */

typedef struct {
  eval_set *s;
  ompb_pool *pool;
} set_job;

static int set_task(ompb_ctx *ctx, void *arg, ompb_value *result) {
  (void)result;
  set_job *j = arg;
  return run_set(j->s, j->pool, ctx);
}

/* "dir/a.b.npy" -> "a.b" (the name without its last extension). */
static void file_stem(const char *path, const char **stem, size_t *len) {
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  const char *dot = strrchr(b, '.');
  *stem = b;
  *len = dot && dot != b ? (size_t)(dot - b) : strlen(b);
}

/* The output path of set k: OUT, DIR/BASENAME or the pattern with {stem}
 * replaced; NULL and no output when printing. EX_OK or EX_FAIL. */
static int output_path(const eval_args *a, size_t k, char **out) {
  *out = NULL;
  const char *file = a->nvars ? a->vars[a->stem_var].files[
                                    a->vars[a->stem_var].nfiles == 1 ? 0 : k]
                              : "";
  const char *stem;
  size_t slen;
  file_stem(file, &stem, &slen);
  size_t cap;
  if (a->out_dir) {
    const char *b = strrchr(file, '/');
    b = b ? b + 1 : file;
    cap = strlen(a->out_dir) + strlen(b) + 2;
    if (!(*out = malloc(cap)))
      return EX_FAIL;
    snprintf(*out, cap, "%s/%s", a->out_dir, b);
    return EX_OK;
  }
  if (!a->out)
    return EX_OK;
  size_t holes = 0;
  for (const char *p = a->out; (p = strstr(p, "{stem}")); p += 6)
    holes++;
  cap = strlen(a->out) + holes * slen + 1;
  if (!(*out = malloc(cap)))
    return EX_FAIL;
  char *w = *out;
  for (const char *p = a->out; *p;) {
    if (!strncmp(p, "{stem}", 6)) {
      memcpy(w, stem, slen);
      w += slen;
      p += 6;
    } else {
      *w++ = *p++;
    }
  }
  *w = '\0';
  return EX_OK;
}

static size_t file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (size_t)st.st_size : 0;
}

static void print_value(const eval_set *s, bool with_file) {
  if (with_file)
    printf("%s\t", s->label);
  if (s->esize == 4)
    printf("%.9g\n", s->value);
  else
    printf("%.17g\n", s->value);
}

static int run_sets(const eval_args *a, const ompb_expr *e, ompb_pool *pool) {
  size_t k = a->nsets;
  eval_set *sets = calloc(k, sizeof *sets);
  set_job *jobs = calloc(k, sizeof *jobs);
  void **args = calloc(k, sizeof *args);
  eval_many m;
  atomic_init(&m.done, 0);
  int rc = sets && jobs && args ? EX_OK : EX_FAIL;
  size_t total = 0;
  for (size_t i = 0; rc == EX_OK && i < k; i++) {
    eval_set *s = &sets[i];
    *s = (eval_set){.a = a, .e = e, .m = &m, .set = i};
    rc = output_path(a, i, &s->out);
    s->label = a->nvars ? set_file(s, a->stem_var) : "eval";
    for (size_t v = 0; v < a->nvars; v++)
      s->bytes += file_size(set_file(s, v));
    total += s->bytes;
    jobs[i] = (set_job){.s = s, .pool = pool};
    args[i] = &jobs[i];
  }
  if (rc != EX_OK)
    cli_error("out of memory");
  /* Two sets writing one file would lose one of them. */
  for (size_t i = 0; rc == EX_OK && i < k; i++)
    for (size_t j = 0; sets[i].out && j < i; j++)
      if (!strcmp(sets[i].out, sets[j].out)) {
        rc = cli_usage_error(usage_short, "%s and %s would both write %s",
                             sets[j].label, sets[i].label, sets[i].out);
        break;
      }
  if (rc == EX_OK && a->out_dir) {
    struct stat st;
    if (stat(a->out_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
      cli_error("%s: %s", a->out_dir,
                stat(a->out_dir, &st) != 0 ? strerror(errno) : "not a directory");
      rc = EX_FAIL;
    }
  }
  if (rc == EX_OK) {
    cli_progress bar;
    cli_progress_init(&bar, "eval", total, true, a->mode);
    bar.done = &m.done;
    cli_jobs_outcome o;
    rc = cli_jobs_run(pool, set_task, args, k, (unsigned)a->jobs, a->fail_fast,
                      &bar, &o);
    for (size_t i = 0; rc == EX_OK && i < k; i++)
      if (sets[i].have_value && !sets[i].out)
        print_value(&sets[i], true);
    if (rc == EX_OK)
      rc = cli_jobs_exit_code(&o, k, "sets");
  } else {
    int err = cli_signals_stop();
    if (err != 0)
      cli_error("cannot stop the signal watcher: %s", strerror(err));
  }
  for (size_t i = 0; sets && i < k; i++)
    free(sets[i].out);
  free(sets);
  free(jobs);
  free(args);
  return rc;
}

/* ---- the command ----------------------------------------------------------- */

static int run(int argc, char **argv) {
  eval_args a;
  ompb_expr *e = NULL;
  int rc = parse_args(argc, argv, &a);
  if (rc == EX_OK)
    rc = compile(&a, &e);
  if (rc == EX_OK && !a.many && !a.out && !ompb_expr_is_reduction(e))
    rc = cli_usage_error(usage_short, "eval needs -o OUT (only a reduction's "
                         "value can be printed)");
  int err = rc == EX_OK ? cli_signals_start() : 0;
  if (err != 0) {
    cli_error("cannot watch for Ctrl-C: %s", strerror(err));
    rc = EX_FAIL;
  }
  ompb_pool *pool = NULL;
  if (rc == EX_OK) {
    int prc = ompb_pool_create(&pool, &(ompb_pool_opts){.workers = (unsigned)a.threads});
    if (prc != OMPB_OK) {
      cli_error("cannot create the pool: %s", ompb_strerror(prc));
      rc = EX_FAIL;
      if ((err = cli_signals_stop()) != 0)
        cli_error("cannot stop the signal watcher: %s", strerror(err));
    }
  }
  if (rc == EX_OK && a.many) {
    rc = run_sets(&a, e, pool);
  } else if (rc == EX_OK) {
    eval_set s = {.a = &a, .e = e};
    s.label = a.nvars ? set_file(&s, 0) : "eval";
    if (output_path(&a, 0, &s.out) != EX_OK) {
      cli_error("out of memory");
      rc = EX_FAIL;
      if ((err = cli_signals_stop()) != 0)
        cli_error("cannot stop the signal watcher: %s", strerror(err));
    } else {
      rc = run_set(&s, pool, NULL);
      if (rc == EX_OK && s.have_value && !s.out)
        print_value(&s, false);
      if (rc == EX_INTERRUPTED)
        cli_error("interrupted; %s was not written", s.out ? s.out : "nothing");
      free(s.out);
    }
  }
  ompb_pool_destroy(pool);
  ompb_expr_free(e);
  free_args(&a);
  return rc;
}

const cli_command cli_cmd_eval = {
    .name = "eval",
    .synopsis = "eval EXPR NAME=FILE...",
    .summary = "evaluate an array expression over .npy files",
    .usage = usage,
    .run = run,
};
