! SPDX-License-Identifier: BSD-3-Clause
! ompbatch for Fortran: the pool, batches of tasks written as bind(c)
! procedures, the SIMD kernels over real(c_float) / real(c_double) arrays of
! any rank, and compiled expressions. docs/fortran.md is the guide.
!
! The module is compiled into libompbatch itself, so its object must need
! nothing from libgfortran (C users of the library must not depend on it):
! no I/O, no character intrinsics that call the runtime, every allocate with
! stat=. mk/fortran.mk fails the build when `nm -u` shows a _gfortran_ symbol.
!
! Conventions: every function returns an integer(c_int) code, OMPB_OK (0), a
! negative OMPB_E* code or a task-defined positive code, as the C API does.
! Indices seen from Fortran are 1-based: task i of a batch of n is i = 1..n
! (the C index plus one), and so are error indices and expression error
! positions. Names (kernels, variables) have their trailing blanks removed.
module ompbatch
  use, intrinsic :: iso_c_binding
  implicit none
  private

  ! ---- error codes (include/ompbatch/error.h) ----------------------------
  integer(c_int), parameter, public :: OMPB_OK = 0, OMPB_EINVAL = -1, &
    OMPB_ENOMEM = -2, OMPB_ENOMETHOD = -3, OMPB_ECANCELED = -4, &
    OMPB_ETIMEDOUT = -5, OMPB_ESTATE = -6, OMPB_EEXIST = -7, &
    OMPB_EAGAIN = -8, OMPB_ENOTSUP = -9, OMPB_EPROTO = -10, OMPB_EIO = -11, &
    OMPB_ERANGE = -12

  ! ---- mirrors of the C option and report structs (bind(c), same fields in
  ! the same order; tests/fortran checks sizes and offsets against C) -------

  ! ompb_pool_opts
  type, bind(c), public :: ompbatch_pool_opts
    integer(c_int) :: workers = 0            ! unsigned; 0: omp_get_max_threads()
    logical(c_bool) :: no_pin = .false.
  end type

  ! ompb_batch_opts. on_progress, on_result and result_free are c_funloc()
  ! of bind(c) procedures with the interfaces ompbatch_progress_fn,
  ! ompbatch_result_fn and ompbatch_result_free_fn; `user` is passed to them
  ! (and to tasks through ompbatch_task_user()).
  type, bind(c), public :: ompbatch_batch_opts
    integer(c_int) :: concurrency = 0        ! unsigned
    logical(c_bool) :: fail_fast = .false.
    type(c_funptr) :: on_progress = c_null_funptr
    real(c_double) :: progress_throttle_ms = 0
    real(c_double) :: task_timeout_ms = 0
    real(c_double) :: batch_timeout_ms = 0
    type(c_funptr) :: on_result = c_null_funptr
    logical(c_bool) :: discard_results = .false.
    type(c_funptr) :: result_free = c_null_funptr
    type(c_ptr) :: user = c_null_ptr
  end type

  ! ompb_map_opts (for the kernels and expressions on a pool)
  type, bind(c), public :: ompbatch_map_opts
    type(ompbatch_batch_opts) :: batch
    integer(c_size_t) :: chunk_size = 0
  end type

  ! ompb_progress
  type, bind(c), public :: ompbatch_progress
    integer(c_size_t) :: completed, total, successes, failures
    real(c_double) :: percentage, estimated_remaining_ms, throughput
  end type

  ! ompb_error and ompb_task_result, as on_result sees them (C indices,
  ! 0-based; value is the ompb_value union read as a double).
  type, bind(c), public :: ompbatch_c_error
    integer(c_int) :: code
    integer(c_size_t) :: index
    type(c_ptr) :: message
  end type
  type, bind(c), public :: ompbatch_c_task_result
    integer(c_size_t) :: index
    integer(c_int) :: status
    real(c_double) :: value
    type(c_ptr) :: error
    real(c_double) :: duration_ms
  end type

  ! ompb_result (Fortran code reads ompbatch_result below)
  type, bind(c), public :: ompbatch_c_result
    type(c_ptr) :: results
    integer(c_size_t) :: count, success_count, failure_count, cancelled_count
    real(c_double) :: duration_ms
    logical(c_bool) :: all_succeeded, cancelled, timed_out
  end type

  ! ompb_task
  type, bind(c), public :: ompbatch_c_task
    type(c_ptr) :: method = c_null_ptr
    type(c_funptr) :: fn = c_null_funptr
    type(c_ptr) :: arg = c_null_ptr
    type(c_funptr) :: arg_free = c_null_funptr
    real(c_double) :: timeout_ms = 0
  end type

  ! ompb_kernel_info
  type, bind(c), public :: ompbatch_c_kernel_info
    type(c_ptr) :: name
    integer(c_int) :: arity, nparams
    real(c_double) :: ulp_f32, ulp_f64
    type(c_ptr) :: what
    type(c_funptr) :: f32, f64, f32_2, f64_2
  end type

  ! ompb_expr_diag
  type, bind(c), public :: ompbatch_c_expr_diag
    integer(c_size_t) :: pos = 0
    character(kind=c_char) :: message(160) = c_null_char
  end type

  ! ---- handles -------------------------------------------------------------
  type, public :: ompbatch_pool
    type(c_ptr) :: p = c_null_ptr
  end type

  ! A started batch. `rec` holds the task function and the caller's
  ! callbacks until ompbatch_batch_free.
  type, public :: ompbatch_batch
    type(c_ptr) :: b = c_null_ptr
    type(c_ptr) :: rec = c_null_ptr
  end type

  ! A batch's result, copied into Fortran arrays (1-based, task order).
  ! status(i): 0, OMPB_ECANCELED (skipped) or the failure code; values(i):
  ! what task i stored (successes only); messages through
  ! ompbatch_result_message. Free with ompbatch_result_free. With
  ! discard_results the arrays are empty and only the counts are set.
  type, public :: ompbatch_result
    integer(c_size_t) :: count = 0, success_count = 0, failure_count = 0, &
      cancelled_count = 0
    real(c_double) :: duration_ms = 0
    logical :: all_succeeded = .false., cancelled = .false., &
      timed_out = .false.
    integer(c_int), allocatable :: status(:)
    real(c_double), allocatable :: values(:)
    real(c_double), allocatable :: durations_ms(:)
    type(c_ptr) :: c = c_null_ptr
  end type

  type, public :: ompbatch_expr
    type(c_ptr) :: e = c_null_ptr
  end type

  ! What the trampolines need; reached through opts%user (ompb_ctx_user).
  type :: batch_rec
    type(c_funptr) :: task = c_null_funptr
    type(c_funptr) :: on_progress = c_null_funptr
    type(c_funptr) :: on_result = c_null_funptr
    type(c_funptr) :: result_free = c_null_funptr
    type(c_ptr) :: user = c_null_ptr
  end type

  ! The running task's context on this thread (saved and restored around
  ! each task, so a nested batch inside a task leaves it intact).
  type(c_ptr), save :: cur_ctx = c_null_ptr
  !$omp threadprivate(cur_ctx)

  ! ---- user procedure interfaces -------------------------------------------
  abstract interface
    ! A task: index is 1..n, arg the task's argument. Return 0 and set
    ! value, or a non-zero code (OMPB_ECANCELED counts as cancelled).
    ! Runs on a worker thread, concurrently with other tasks.
    function ompbatch_task_fn(index, arg, value) result(rc) bind(c)
      import :: c_int, c_size_t, c_ptr, c_double
      integer(c_size_t), value :: index
      type(c_ptr), value :: arg
      real(c_double), intent(inout) :: value
      integer(c_int) :: rc
    end function
    ! on_progress: runs on the pool's reporter thread, never concurrently
    ! with itself.
    subroutine ompbatch_progress_fn(p, user) bind(c)
      import :: ompbatch_progress, c_ptr
      type(ompbatch_progress), intent(in) :: p
      type(c_ptr), value :: user
    end subroutine
    ! on_result: r is C's ompb_task_result (0-based index), valid during
    ! the call only; runs on the worker that ran the task.
    subroutine ompbatch_result_fn(r, user) bind(c)
      import :: ompbatch_c_task_result, c_ptr
      type(ompbatch_c_task_result), intent(in) :: r
      type(c_ptr), value :: user
    end subroutine
    subroutine ompbatch_result_free_fn(v, user) bind(c)
      import :: c_double, c_ptr
      real(c_double), value :: v
      type(c_ptr), value :: user
    end subroutine
  end interface
  public :: ompbatch_task_fn, ompbatch_progress_fn, ompbatch_result_fn, &
    ompbatch_result_free_fn

  ! ---- the C API -------------------------------------------------------------
  interface
    function c_pool_create(out, opts) result(rc) bind(c, name='ompb_pool_create')
      import :: c_ptr, c_int
      type(c_ptr), intent(out) :: out
      type(c_ptr), value :: opts
      integer(c_int) :: rc
    end function
    subroutine c_pool_destroy(p) bind(c, name='ompb_pool_destroy')
      import :: c_ptr
      type(c_ptr), value :: p
    end subroutine
    function c_pool_workers(p) result(n) bind(c, name='ompb_pool_workers')
      import :: c_ptr, c_int
      type(c_ptr), value :: p
      integer(c_int) :: n
    end function
    function c_ctx_should_stop(ctx) result(s) bind(c, name='ompb_ctx_should_stop')
      import :: c_ptr, c_bool
      type(c_ptr), value :: ctx
      logical(c_bool) :: s
    end function
    function c_ctx_index(ctx) result(i) bind(c, name='ompb_ctx_index')
      import :: c_ptr, c_size_t
      type(c_ptr), value :: ctx
      integer(c_size_t) :: i
    end function
    function c_ctx_user(ctx) result(u) bind(c, name='ompb_ctx_user')
      import :: c_ptr
      type(c_ptr), value :: ctx
      type(c_ptr) :: u
    end function
    ! fortran/ctx_fail.c: ompb_ctx_fail is variadic, which Fortran cannot call.
    function c_ctx_fail(ctx, code, msg, len) result(rc) bind(c, name='ompb__f_ctx_fail')
      import :: c_ptr, c_int, c_size_t, c_char
      type(c_ptr), value :: ctx
      integer(c_int), value :: code
      character(kind=c_char), intent(in) :: msg(*)
      integer(c_size_t), value :: len
      integer(c_int) :: rc
    end function
    function c_batch_start(pool, tasks, n, opts, out) result(rc) bind(c, name='ompb_batch_start')
      import :: c_ptr, c_size_t, c_int, ompbatch_c_task, ompbatch_batch_opts
      type(c_ptr), value :: pool
      type(ompbatch_c_task), intent(in) :: tasks(*)
      integer(c_size_t), value :: n
      type(ompbatch_batch_opts), intent(in) :: opts
      type(c_ptr), intent(out) :: out
      integer(c_int) :: rc
    end function
    function c_batch_wait(b, out) result(rc) bind(c, name='ompb_batch_wait')
      import :: c_ptr, c_int
      type(c_ptr), value :: b
      type(c_ptr), intent(out) :: out
      integer(c_int) :: rc
    end function
    function c_batch_cancel(b) result(rc) bind(c, name='ompb_batch_cancel')
      import :: c_ptr, c_int
      type(c_ptr), value :: b
      integer(c_int) :: rc
    end function
    function c_batch_pause(b) result(rc) bind(c, name='ompb_batch_pause')
      import :: c_ptr, c_int
      type(c_ptr), value :: b
      integer(c_int) :: rc
    end function
    function c_batch_resume(b) result(rc) bind(c, name='ompb_batch_resume')
      import :: c_ptr, c_int
      type(c_ptr), value :: b
      integer(c_int) :: rc
    end function
    function c_batch_is_paused(b) result(s) bind(c, name='ompb_batch_is_paused')
      import :: c_ptr, c_bool
      type(c_ptr), value :: b
      logical(c_bool) :: s
    end function
    function c_batch_progress(b, p) result(rc) bind(c, name='ompb_batch_progress')
      import :: c_ptr, c_int, ompbatch_progress
      type(c_ptr), value :: b
      type(ompbatch_progress), intent(out) :: p
      integer(c_int) :: rc
    end function
    subroutine c_batch_free(b) bind(c, name='ompb_batch_free')
      import :: c_ptr
      type(c_ptr), value :: b
    end subroutine
    subroutine c_result_free(r) bind(c, name='ompb_result_free')
      import :: c_ptr
      type(c_ptr), value :: r
    end subroutine
    function c_strerror(code) result(s) bind(c, name='ompb_strerror')
      import :: c_ptr, c_int
      integer(c_int), value :: code
      type(c_ptr) :: s
    end function
    function c_err_name(code) result(s) bind(c, name='ompb_err_name')
      import :: c_ptr, c_int
      integer(c_int), value :: code
      type(c_ptr) :: s
    end function
    function c_simd_isa() result(s) bind(c, name='ompb_simd_isa')
      import :: c_ptr
      type(c_ptr) :: s
    end function
    function c_kernel_find(name, arity) result(k) bind(c, name='ompb_kernel_find')
      import :: c_ptr, c_char, c_int
      character(kind=c_char), intent(in) :: name(*)
      integer(c_int), value :: arity
      type(c_ptr) :: k
    end function
    function c_simd_map_f32(x, y, n, k, params) result(rc) bind(c, name='ompb_simd_map_f32')
      import :: c_ptr, c_size_t, c_funptr, c_int
      type(c_ptr), value :: x, y, params
      integer(c_size_t), value :: n
      type(c_funptr), value :: k
      integer(c_int) :: rc
    end function
    function c_simd_map2_f32(a, b, y, n, k, params) result(rc) bind(c, name='ompb_simd_map2_f32')
      import :: c_ptr, c_size_t, c_funptr, c_int
      type(c_ptr), value :: a, b, y, params
      integer(c_size_t), value :: n
      type(c_funptr), value :: k
      integer(c_int) :: rc
    end function
    function c_simd_map_f64(x, y, n, k, params) result(rc) bind(c, name='ompb_simd_map_f64')
      import :: c_ptr, c_size_t, c_funptr, c_int
      type(c_ptr), value :: x, y, params
      integer(c_size_t), value :: n
      type(c_funptr), value :: k
      integer(c_int) :: rc
    end function
    function c_simd_map2_f64(a, b, y, n, k, params) result(rc) bind(c, name='ompb_simd_map2_f64')
      import :: c_ptr, c_size_t, c_funptr, c_int
      type(c_ptr), value :: a, b, y, params
      integer(c_size_t), value :: n
      type(c_funptr), value :: k
      integer(c_int) :: rc
    end function
    function c_pool_map_f32(pool, x, y, n, k, params, opts, out) result(rc) bind(c, name='ompb_pool_map_f32')
      import :: c_ptr, c_size_t, c_funptr, c_int
      type(c_ptr), value :: pool, x, y, params, opts
      integer(c_size_t), value :: n
      type(c_funptr), value :: k
      type(c_ptr), intent(out) :: out
      integer(c_int) :: rc
    end function
    function c_pool_map_f64(pool, x, y, n, k, params, opts, out) result(rc) bind(c, name='ompb_pool_map_f64')
      import :: c_ptr, c_size_t, c_funptr, c_int
      type(c_ptr), value :: pool, x, y, params, opts
      integer(c_size_t), value :: n
      type(c_funptr), value :: k
      type(c_ptr), intent(out) :: out
      integer(c_int) :: rc
    end function
    function c_expr_compile(src, vars, nvars, out, diag) result(rc) bind(c, name='ompb_expr_compile')
      import :: c_ptr, c_char, c_size_t, c_int, ompbatch_c_expr_diag
      character(kind=c_char), intent(in) :: src(*)
      type(c_ptr), intent(in) :: vars(*)
      integer(c_size_t), value :: nvars
      type(c_ptr), intent(out) :: out
      type(ompbatch_c_expr_diag), intent(inout) :: diag
      integer(c_int) :: rc
    end function
    subroutine c_expr_free(e) bind(c, name='ompb_expr_free')
      import :: c_ptr
      type(c_ptr), value :: e
    end subroutine
    function c_expr_is_reduction(e) result(s) bind(c, name='ompb_expr_is_reduction')
      import :: c_ptr, c_bool
      type(c_ptr), value :: e
      logical(c_bool) :: s
    end function
    function c_expr_nvars(e) result(n) bind(c, name='ompb_expr_nvars')
      import :: c_ptr, c_size_t
      type(c_ptr), value :: e
      integer(c_size_t) :: n
    end function
    function c_expr_eval_f32(pool, e, inputs, n, out, opts) result(rc) bind(c, name='ompb_expr_eval_f32')
      import :: c_ptr, c_size_t, c_int
      type(c_ptr), value :: pool, e, out, opts
      type(c_ptr), intent(in) :: inputs(*)
      integer(c_size_t), value :: n
      integer(c_int) :: rc
    end function
    function c_expr_eval_f64(pool, e, inputs, n, out, opts) result(rc) bind(c, name='ompb_expr_eval_f64')
      import :: c_ptr, c_size_t, c_int
      type(c_ptr), value :: pool, e, out, opts
      type(c_ptr), intent(in) :: inputs(*)
      integer(c_size_t), value :: n
      integer(c_int) :: rc
    end function
    function c_strlen(s) result(n) bind(c, name='strlen')
      import :: c_ptr, c_size_t
      type(c_ptr), value :: s
      integer(c_size_t) :: n
    end function
  end interface

  ! ---- the public API ----------------------------------------------------------
  public :: ompbatch_pool_create, ompbatch_pool_destroy, ompbatch_pool_workers
  public :: ompbatch_batch_start, ompbatch_batch_wait, ompbatch_batch_free, &
    ompbatch_exec_batch, ompbatch_batch_cancel, ompbatch_batch_pause, &
    ompbatch_batch_resume, ompbatch_batch_is_paused, ompbatch_batch_progress
  public :: ompbatch_result_free, ompbatch_result_message, &
    ompbatch_result_error_index
  public :: ompbatch_should_stop, ompbatch_task_fail, ompbatch_task_user
  public :: ompbatch_strerror, ompbatch_err_name, ompbatch_simd_isa
  public :: ompbatch_map, ompbatch_map2, ompbatch_kernel_ulp
  public :: ompbatch_expr_compile, ompbatch_expr_free, ompbatch_expr_eval, &
    ompbatch_expr_is_reduction

  ! ompbatch_map(name, x [, y] [, pool] [, params] [, opts]): y = name(x)
  ! elementwise (x in place when y is absent), any rank, f32 or f64.
  interface ompbatch_map
    module procedure map_f32, map_f64
  end interface
  ! ompbatch_map2(name, a, b, y [, pool] [, params] [, opts]): y = name(a, b).
  interface ompbatch_map2
    module procedure map2_f32, map2_f64
  end interface
  ! ompbatch_expr_eval(pool, e, inputs, out [, n] [, opts]).
  interface ompbatch_expr_eval
    module procedure expr_eval_f32, expr_eval_f64
  end interface

contains

  ! ---- strings (no runtime calls: plain loops) ----------------------------------

  pure function trimmed_len(s) result(n)
    character(len=*), intent(in) :: s
    integer :: n
    n = len(s)
    do while (n > 0)
      if (iachar(s(n:n)) /= 32) exit
      n = n - 1
    end do
  end function

  ! s without trailing blanks, NUL-terminated, in buf.
  subroutine to_c(s, buf, st)
    character(len=*), intent(in) :: s
    character(kind=c_char), allocatable, intent(out) :: buf(:)
    integer, intent(out) :: st
    integer :: i, n
    n = trimmed_len(s)
    allocate(buf(n + 1), stat=st)
    if (st /= 0) return
    do i = 1, n
      buf(i) = s(i:i)
    end do
    buf(n + 1) = c_null_char
  end subroutine

  ! Copy the C string p into s (blank-padded, truncated to len(s)); returns
  ! the C string's length.
  function from_c(p, s) result(n)
    type(c_ptr), intent(in) :: p
    character(len=*), intent(out) :: s
    integer :: n, i
    character(kind=c_char), pointer :: c(:)
    s = ' '
    n = 0
    if (.not. c_associated(p)) return
    n = int(c_strlen(p))
    call c_f_pointer(p, c, [n])
    do i = 1, min(n, len(s))
      s(i:i) = c(i)
    end do
  end function

  ! ---- errors and ISA -------------------------------------------------------------

  ! ompb_strerror(code) into msg; returns its length.
  function ompbatch_strerror(code, msg) result(n)
    integer(c_int), intent(in) :: code
    character(len=*), intent(out) :: msg
    integer :: n
    n = from_c(c_strerror(code), msg)
  end function

  ! ompb_err_name(code) ("OMPB_EINVAL") into name; returns its length.
  function ompbatch_err_name(code, name) result(n)
    integer(c_int), intent(in) :: code
    character(len=*), intent(out) :: name
    integer :: n
    n = from_c(c_err_name(code), name)
  end function

  ! ompb_simd_isa() ("avx2", ...) into isa; returns its length.
  function ompbatch_simd_isa(isa) result(n)
    character(len=*), intent(out) :: isa
    integer :: n
    n = from_c(c_simd_isa(), isa)
  end function

  ! ---- pool ------------------------------------------------------------------------

  ! Create a pool (opts optional: defaults). Codes as ompb_pool_create.
  function ompbatch_pool_create(pool, opts) result(rc)
    type(ompbatch_pool), intent(out) :: pool
    type(ompbatch_pool_opts), intent(in), optional, target :: opts
    integer(c_int) :: rc
    if (present(opts)) then
      rc = c_pool_create(pool%p, c_loc(opts))
    else
      rc = c_pool_create(pool%p, c_null_ptr)
    end if
  end function

  subroutine ompbatch_pool_destroy(pool)
    type(ompbatch_pool), intent(inout) :: pool
    call c_pool_destroy(pool%p)
    pool%p = c_null_ptr
  end subroutine

  function ompbatch_pool_workers(pool) result(n)
    type(ompbatch_pool), intent(in) :: pool
    integer :: n
    n = int(c_pool_workers(pool%p))
  end function

  ! ---- inside a task ------------------------------------------------------------------

  ! True once the running task should stop (cancel, fail-fast, a deadline).
  ! Call it from a task function only (false elsewhere).
  function ompbatch_should_stop() result(s)
    logical :: s
    s = .false.
    if (c_associated(cur_ctx)) s = logical(c_ctx_should_stop(cur_ctx))
  end function

  ! Attach msg (truncated to 255 bytes) to the running task's failure and
  ! return code: `rc = ompbatch_task_fail(7, 'bad row')`.
  function ompbatch_task_fail(code, msg) result(rc)
    integer(c_int), intent(in) :: code
    character(len=*), intent(in) :: msg
    integer(c_int) :: rc
    rc = c_ctx_fail(cur_ctx, code, msg, int(trimmed_len(msg), c_size_t))
  end function

  ! The batch options' `user` pointer, from a task function.
  function ompbatch_task_user() result(u)
    type(c_ptr) :: u
    type(batch_rec), pointer :: r
    u = c_null_ptr
    if (.not. c_associated(cur_ctx)) return
    call c_f_pointer(c_ctx_user(cur_ctx), r)
    u = r%user
  end function

  ! ---- trampolines (C calls these; they call the Fortran procedures) -----------

  function task_tramp(ctx, arg, out) result(rc) bind(c, name='')
    type(c_ptr), value :: ctx, arg
    real(c_double), intent(inout) :: out
    integer(c_int) :: rc
    type(batch_rec), pointer :: r
    procedure(ompbatch_task_fn), pointer :: f
    type(c_ptr) :: saved
    call c_f_pointer(c_ctx_user(ctx), r)
    call c_f_procpointer(r%task, f)
    saved = cur_ctx
    cur_ctx = ctx
    rc = f(c_ctx_index(ctx) + 1, arg, out)
    cur_ctx = saved
  end function

  subroutine progress_tramp(p, user) bind(c, name='')
    type(ompbatch_progress), intent(in) :: p
    type(c_ptr), value :: user
    type(batch_rec), pointer :: r
    procedure(ompbatch_progress_fn), pointer :: f
    call c_f_pointer(user, r)
    call c_f_procpointer(r%on_progress, f)
    call f(p, r%user)
  end subroutine

  subroutine result_tramp(res, user) bind(c, name='')
    type(ompbatch_c_task_result), intent(in) :: res
    type(c_ptr), value :: user
    type(batch_rec), pointer :: r
    procedure(ompbatch_result_fn), pointer :: f
    call c_f_pointer(user, r)
    call c_f_procpointer(r%on_result, f)
    call f(res, r%user)
  end subroutine

  subroutine result_free_tramp(v, user) bind(c, name='')
    real(c_double), value :: v
    type(c_ptr), value :: user
    type(batch_rec), pointer :: r
    procedure(ompbatch_result_free_fn), pointer :: f
    call c_f_pointer(user, r)
    call c_f_procpointer(r%result_free, f)
    call f(v, r%user)
  end subroutine

  ! ---- batches ----------------------------------------------------------------------

  ! Start a batch of n tasks running fn (a bind(c) procedure with the
  ! interface ompbatch_task_fn), task i with args(i) (args optional: all
  ! c_null_ptr; when given, size(args) >= n). opts optional. The batch runs
  ! on the pool, or at once in the caller's team when called from inside an
  ! OpenMP parallel region or a task (the call then returns after it ran).
  ! Codes as ompb_batch_start; on failure batch stays empty.
  function ompbatch_batch_start(pool, fn, n, batch, args, opts) result(rc)
    type(ompbatch_pool), intent(in) :: pool
    procedure(ompbatch_task_fn) :: fn
    integer, intent(in) :: n
    type(ompbatch_batch), intent(out) :: batch
    type(c_ptr), intent(in), optional :: args(:)
    type(ompbatch_batch_opts), intent(in), optional :: opts
    integer(c_int) :: rc
    type(ompbatch_c_task), allocatable :: tasks(:)
    type(ompbatch_batch_opts) :: o
    type(batch_rec), pointer :: r
    integer :: i, st
    rc = OMPB_EINVAL
    if (n < 0) return
    if (present(args)) then
      if (size(args) < n) return
    end if
    rc = OMPB_ENOMEM
    allocate(tasks(max(n, 1)), stat=st)
    if (st /= 0) return
    allocate(r, stat=st)
    if (st /= 0) return
    if (present(opts)) o = opts
    r%task = c_funloc(fn)
    r%user = o%user
    r%on_progress = o%on_progress
    r%on_result = o%on_result
    r%result_free = o%result_free
    o%user = c_loc(r)
    if (c_associated(o%on_progress)) o%on_progress = c_funloc(progress_tramp)
    if (c_associated(o%on_result)) o%on_result = c_funloc(result_tramp)
    if (c_associated(o%result_free)) o%result_free = c_funloc(result_free_tramp)
    do i = 1, n
      tasks(i)%fn = c_funloc(task_tramp)
      if (present(args)) tasks(i)%arg = args(i)
    end do
    rc = c_batch_start(pool%p, tasks, int(n, c_size_t), o, batch%b)
    if (rc /= OMPB_OK) then
      deallocate(r, stat=st)
      batch%b = c_null_ptr
      return
    end if
    batch%rec = c_loc(r)
  end function

  ! Wait for the batch and copy its result into res (free it with
  ! ompbatch_result_free). Codes as ompb_batch_wait: OMPB_OK (see
  ! res%cancelled), the first failure's code after a fail-fast trip,
  ! OMPB_ETIMEDOUT; res is filled in those cases.
  function ompbatch_batch_wait(batch, res) result(rc)
    type(ompbatch_batch), intent(inout) :: batch
    type(ompbatch_result), intent(out) :: res
    integer(c_int) :: rc
    type(c_ptr) :: cr
    cr = c_null_ptr
    rc = c_batch_wait(batch%b, cr)
    if (c_associated(cr)) then
      if (.not. copy_result(cr, res)) rc = OMPB_ENOMEM
    end if
  end function

  ! Free the handle (cancels and waits first when still running). The empty
  ! handle is a no-op.
  subroutine ompbatch_batch_free(batch)
    type(ompbatch_batch), intent(inout) :: batch
    type(batch_rec), pointer :: r
    integer :: st
    call c_batch_free(batch%b)
    if (c_associated(batch%rec)) then
      call c_f_pointer(batch%rec, r)
      deallocate(r, stat=st)
    end if
    batch%b = c_null_ptr
    batch%rec = c_null_ptr
  end subroutine

  ! start + wait + free.
  function ompbatch_exec_batch(pool, fn, n, res, args, opts) result(rc)
    type(ompbatch_pool), intent(in) :: pool
    procedure(ompbatch_task_fn) :: fn
    integer, intent(in) :: n
    type(ompbatch_result), intent(out) :: res
    type(c_ptr), intent(in), optional :: args(:)
    type(ompbatch_batch_opts), intent(in), optional :: opts
    integer(c_int) :: rc
    type(ompbatch_batch) :: b
    rc = ompbatch_batch_start(pool, fn, n, b, args, opts)
    if (rc /= OMPB_OK) return
    rc = ompbatch_batch_wait(b, res)
    call ompbatch_batch_free(b)
  end function

  ! Cancel, pause and resume: callable from any thread while the batch runs,
  ! tasks and callbacks included. OMPB_OK, or OMPB_EINVAL for an empty handle.
  function ompbatch_batch_cancel(batch) result(rc)
    type(ompbatch_batch), intent(in) :: batch
    integer(c_int) :: rc
    rc = c_batch_cancel(batch%b)
  end function

  function ompbatch_batch_pause(batch) result(rc)
    type(ompbatch_batch), intent(in) :: batch
    integer(c_int) :: rc
    rc = c_batch_pause(batch%b)
  end function

  function ompbatch_batch_resume(batch) result(rc)
    type(ompbatch_batch), intent(in) :: batch
    integer(c_int) :: rc
    rc = c_batch_resume(batch%b)
  end function

  function ompbatch_batch_is_paused(batch) result(s)
    type(ompbatch_batch), intent(in) :: batch
    logical :: s
    s = logical(c_batch_is_paused(batch%b))
  end function

  function ompbatch_batch_progress(batch, p) result(rc)
    type(ompbatch_batch), intent(in) :: batch
    type(ompbatch_progress), intent(out) :: p
    integer(c_int) :: rc
    rc = c_batch_progress(batch%b, p)
  end function

  ! The C result cr into res; false when the arrays cannot be allocated (cr
  ! is then freed and res left empty).
  function copy_result(cr, res) result(ok)
    type(c_ptr), intent(in) :: cr
    type(ompbatch_result), intent(inout) :: res
    logical :: ok
    type(ompbatch_c_result), pointer :: c
    type(ompbatch_c_task_result), pointer :: t(:)
    integer :: i, n, st1, st2, st3
    ok = .true.
    call c_f_pointer(cr, c)
    res%count = c%count
    res%success_count = c%success_count
    res%failure_count = c%failure_count
    res%cancelled_count = c%cancelled_count
    res%duration_ms = c%duration_ms
    res%all_succeeded = logical(c%all_succeeded)
    res%cancelled = logical(c%cancelled)
    res%timed_out = logical(c%timed_out)
    res%c = cr
    n = 0
    if (c_associated(c%results)) n = int(c%count)
    allocate(res%status(n), stat=st1)
    allocate(res%values(n), stat=st2)
    allocate(res%durations_ms(n), stat=st3)
    if (st1 /= 0 .or. st2 /= 0 .or. st3 /= 0) then
      call ompbatch_result_free(res)
      ok = .false.
      return
    end if
    if (n == 0) return
    call c_f_pointer(c%results, t, [n])
    do i = 1, n
      res%status(i) = t(i)%status
      res%values(i) = t(i)%value
      res%durations_ms(i) = t(i)%duration_ms
    end do
  end function

  ! Task i's error message into msg (blank-padded); returns its length, 0
  ! when task i did not fail (or i is out of range, or results were
  ! discarded).
  function ompbatch_result_message(res, i, msg) result(n)
    type(ompbatch_result), intent(in) :: res
    integer, intent(in) :: i
    character(len=*), intent(out) :: msg
    integer :: n
    type(ompbatch_c_error), pointer :: e
    msg = ' '
    n = 0
    if (.not. task_error(res, i, e)) return
    n = from_c(e%message, msg)
  end function

  ! Task i's error index (1-based, == i) and code, or 0 when it did not fail.
  function ompbatch_result_error_index(res, i, code) result(idx)
    type(ompbatch_result), intent(in) :: res
    integer, intent(in) :: i
    integer(c_int), intent(out), optional :: code
    integer :: idx
    type(ompbatch_c_error), pointer :: e
    idx = 0
    if (present(code)) code = 0
    if (.not. task_error(res, i, e)) return
    idx = int(e%index) + 1
    if (present(code)) code = e%code
  end function

  function task_error(res, i, e) result(found)
    type(ompbatch_result), intent(in) :: res
    integer, intent(in) :: i
    type(ompbatch_c_error), pointer, intent(out) :: e
    logical :: found
    type(ompbatch_c_result), pointer :: c
    type(ompbatch_c_task_result), pointer :: t(:)
    found = .false.
    e => null()
    if (.not. c_associated(res%c)) return
    call c_f_pointer(res%c, c)
    if (.not. c_associated(c%results) .or. i < 1 .or. i > int(c%count)) return
    call c_f_pointer(c%results, t, [int(c%count)])
    if (.not. c_associated(t(i)%error)) return
    call c_f_pointer(t(i)%error, e)
    found = .true.
  end function

  subroutine ompbatch_result_free(res)
    type(ompbatch_result), intent(inout) :: res
    integer :: st
    call c_result_free(res%c)
    res%c = c_null_ptr
    if (allocated(res%status)) deallocate(res%status, stat=st)
    if (allocated(res%values)) deallocate(res%values, stat=st)
    if (allocated(res%durations_ms)) deallocate(res%durations_ms, stat=st)
    res%count = 0
    res%success_count = 0
    res%failure_count = 0
    res%cancelled_count = 0
  end subroutine

  ! ---- kernels -----------------------------------------------------------------------

  ! The kernel called name with arity inputs, or null (unknown name).
  function find_kernel(name, arity, k) result(rc)
    character(len=*), intent(in) :: name
    integer, intent(in) :: arity
    type(ompbatch_c_kernel_info), pointer, intent(out) :: k
    integer(c_int) :: rc
    character(kind=c_char), allocatable :: buf(:)
    type(c_ptr) :: p
    integer :: st
    k => null()
    call to_c(name, buf, st)
    rc = OMPB_ENOMEM
    if (st /= 0) return
    p = c_kernel_find(buf, int(arity, c_int))
    rc = OMPB_EINVAL
    if (.not. c_associated(p)) return
    call c_f_pointer(p, k)
    rc = OMPB_OK
  end function

  ! The documented ULP bounds of kernel name (arity 1 or 2; default 1).
  ! OMPB_OK, or OMPB_EINVAL for an unknown name.
  function ompbatch_kernel_ulp(name, ulp_f32, ulp_f64, arity, nparams) result(rc)
    character(len=*), intent(in) :: name
    real(c_double), intent(out) :: ulp_f32, ulp_f64
    integer, intent(in), optional :: arity
    integer, intent(out), optional :: nparams
    integer(c_int) :: rc
    type(ompbatch_c_kernel_info), pointer :: k
    integer :: a
    a = 1
    if (present(arity)) a = arity
    ulp_f32 = 0
    ulp_f64 = 0
    if (present(nparams)) nparams = 0
    rc = find_kernel(name, a, k)
    if (rc /= OMPB_OK) return
    ulp_f32 = k%ulp_f32
    ulp_f64 = k%ulp_f64
    if (present(nparams)) nparams = int(k%nparams)
  end function

  ! Run kernel k over n elements: on the calling thread without a pool, on
  ! the pool's workers with one (waited for here).
  function run_map(f64, x, y, n, k, params, pool, opts) result(rc)
    logical, intent(in) :: f64
    type(c_ptr), intent(in) :: x, y, params
    integer(c_size_t), intent(in) :: n
    type(c_funptr), intent(in) :: k
    type(ompbatch_pool), intent(in), optional :: pool
    type(ompbatch_map_opts), intent(in), optional, target :: opts
    integer(c_int) :: rc
    type(c_ptr) :: b, o, cr
    if (.not. present(pool)) then
      if (f64) then
        rc = c_simd_map_f64(x, y, n, k, params)
      else
        rc = c_simd_map_f32(x, y, n, k, params)
      end if
      return
    end if
    o = c_null_ptr
    if (present(opts)) o = c_loc(opts)
    b = c_null_ptr
    if (f64) then
      rc = c_pool_map_f64(pool%p, x, y, n, k, params, o, b)
    else
      rc = c_pool_map_f32(pool%p, x, y, n, k, params, o, b)
    end if
    if (rc /= OMPB_OK) return
    cr = c_null_ptr
    rc = c_batch_wait(b, cr)
    call c_result_free(cr)
    call c_batch_free(b)
  end function

  ! y = name(x) elementwise over arrays of any rank (contiguous; a section
  ! is packed by the compiler); x in place when y is absent. params: the
  ! kernel's scalars (at least its nparams). pool: run on the pool's
  ! workers (opts then apply), else on the calling thread.
  ! OMPB_OK; OMPB_EINVAL for an unknown kernel, size(y) /= size(x), too few
  ! params, partially overlapping arrays; other codes as ompb_pool_map_f32.
  function map_f32(name, x, y, pool, params, opts) result(rc)
    character(len=*), intent(in) :: name
    real(c_float), intent(inout), contiguous, target :: x(..)
    real(c_float), intent(inout), contiguous, target, optional :: y(..)
    type(ompbatch_pool), intent(in), optional :: pool
    real(c_float), intent(in), contiguous, target, optional :: params(:)
    type(ompbatch_map_opts), intent(in), optional :: opts
    integer(c_int) :: rc
    type(ompbatch_c_kernel_info), pointer :: k
    type(c_ptr) :: py, pp
    rc = find_kernel(name, 1, k)
    if (rc /= OMPB_OK) return
    rc = OMPB_EINVAL
    py = c_loc(x)
    if (present(y)) then
      if (size(y) /= size(x)) return
      py = c_loc(y)
    end if
    pp = c_null_ptr
    if (present(params)) then
      if (size(params) < int(k%nparams)) return
      if (size(params) > 0) pp = c_loc(params)
    end if
    rc = run_map(.false., c_loc(x), py, int(size(x), c_size_t), k%f32, pp, pool, opts)
  end function

  function map_f64(name, x, y, pool, params, opts) result(rc)
    character(len=*), intent(in) :: name
    real(c_double), intent(inout), contiguous, target :: x(..)
    real(c_double), intent(inout), contiguous, target, optional :: y(..)
    type(ompbatch_pool), intent(in), optional :: pool
    real(c_double), intent(in), contiguous, target, optional :: params(:)
    type(ompbatch_map_opts), intent(in), optional :: opts
    integer(c_int) :: rc
    type(ompbatch_c_kernel_info), pointer :: k
    type(c_ptr) :: py, pp
    rc = find_kernel(name, 1, k)
    if (rc /= OMPB_OK) return
    rc = OMPB_EINVAL
    py = c_loc(x)
    if (present(y)) then
      if (size(y) /= size(x)) return
      py = c_loc(y)
    end if
    pp = c_null_ptr
    if (present(params)) then
      if (size(params) < int(k%nparams)) return
      if (size(params) > 0) pp = c_loc(params)
    end if
    rc = run_map(.true., c_loc(x), py, int(size(x), c_size_t), k%f64, pp, pool, opts)
  end function

  ! y = name(a, b) elementwise (two-input kernels: add, mul, pow, atan2,
  ! hypot, ...), on the calling thread. Same codes as ompbatch_map.
  function map2_f32(name, a, b, y, params) result(rc)
    character(len=*), intent(in) :: name
    real(c_float), intent(in), contiguous, target :: a(..), b(..)
    real(c_float), intent(inout), contiguous, target :: y(..)
    real(c_float), intent(in), contiguous, target, optional :: params(:)
    integer(c_int) :: rc
    type(ompbatch_c_kernel_info), pointer :: k
    type(c_ptr) :: pp
    rc = find_kernel(name, 2, k)
    if (rc /= OMPB_OK) return
    rc = OMPB_EINVAL
    if (size(a) /= size(y) .or. size(b) /= size(y)) return
    pp = c_null_ptr
    if (present(params)) then
      if (size(params) > 0) pp = c_loc(params)
    end if
    rc = c_simd_map2_f32(c_loc(a), c_loc(b), c_loc(y), int(size(y), c_size_t), k%f32_2, pp)
  end function

  function map2_f64(name, a, b, y, params) result(rc)
    character(len=*), intent(in) :: name
    real(c_double), intent(in), contiguous, target :: a(..), b(..)
    real(c_double), intent(inout), contiguous, target :: y(..)
    real(c_double), intent(in), contiguous, target, optional :: params(:)
    integer(c_int) :: rc
    type(ompbatch_c_kernel_info), pointer :: k
    type(c_ptr) :: pp
    rc = find_kernel(name, 2, k)
    if (rc /= OMPB_OK) return
    rc = OMPB_EINVAL
    if (size(a) /= size(y) .or. size(b) /= size(y)) return
    pp = c_null_ptr
    if (present(params)) then
      if (size(params) > 0) pp = c_loc(params)
    end if
    rc = c_simd_map2_f64(c_loc(a), c_loc(b), c_loc(y), int(size(y), c_size_t), k%f64_2, pp)
  end function

  ! ---- expressions ---------------------------------------------------------------------

  ! Compile src over the variables vars (trailing blanks removed: vars(k) is
  ! inputs(k) of the evaluation). On failure pos is the 1-based byte position
  ! of the error in src and msg the message (both optional). Codes as
  ! ompb_expr_compile: OMPB_EINVAL (syntax, unknown name, bad variable
  ! name), OMPB_ERANGE (limits), OMPB_ENOMEM.
  function ompbatch_expr_compile(e, src, vars, pos, msg) result(rc)
    type(ompbatch_expr), intent(out) :: e
    character(len=*), intent(in) :: src
    character(len=*), intent(in) :: vars(:)
    integer, intent(out), optional :: pos
    character(len=*), intent(out), optional :: msg
    integer(c_int) :: rc
    character(kind=c_char), allocatable, target :: sbuf(:), nbuf(:, :)
    type(c_ptr), allocatable :: ptrs(:)
    type(ompbatch_c_expr_diag) :: d
    integer :: nv, lv, i, j, n, st
    if (present(pos)) pos = 0
    if (present(msg)) msg = ' '
    rc = OMPB_ENOMEM
    nv = size(vars)
    lv = len(vars)
    call to_c(src, sbuf, st)
    if (st /= 0) return
    allocate(nbuf(lv + 1, max(nv, 1)), ptrs(max(nv, 1)), stat=st)
    if (st /= 0) return
    do j = 1, nv
      n = trimmed_len(vars(j))
      do i = 1, n
        nbuf(i, j) = vars(j)(i:i)
      end do
      nbuf(n + 1, j) = c_null_char
      ptrs(j) = c_loc(nbuf(1, j))
    end do
    rc = c_expr_compile(sbuf, ptrs, int(nv, c_size_t), e%e, d)
    if (rc == OMPB_OK) return
    e%e = c_null_ptr
    if (present(pos)) pos = int(d%pos) + 1
    if (present(msg)) then
      do i = 1, min(len(msg), size(d%message))
        if (iachar(d%message(i)) == 0) exit
        msg(i:i) = d%message(i)
      end do
    end if
  end function

  subroutine ompbatch_expr_free(e)
    type(ompbatch_expr), intent(inout) :: e
    call c_expr_free(e%e)
    e%e = c_null_ptr
  end subroutine

  function ompbatch_expr_is_reduction(e) result(s)
    type(ompbatch_expr), intent(in) :: e
    logical :: s
    s = logical(c_expr_is_reduction(e%e))
  end function

  ! Evaluate e on the pool: out(i) = e(inputs(1)(i), inputs(2)(i), ...) over
  ! n elements (default size(out)), or out(1) = the reduction (n required
  ! then). inputs(k) = c_loc of variable k's array (same kind as out, at
  ! least n elements; size(inputs) >= the number of variables). out may be
  ! one of the inputs (in place). opts optional. Codes as ompb_expr_eval_f32,
  ! and OMPB_EINVAL when out or inputs are too small.
  function expr_eval_f32(pool, e, inputs, out, n, opts) result(rc)
    type(ompbatch_pool), intent(in) :: pool
    type(ompbatch_expr), intent(in) :: e
    type(c_ptr), intent(in), contiguous :: inputs(:)
    real(c_float), intent(inout), contiguous, target :: out(..)
    integer, intent(in), optional :: n
    type(ompbatch_map_opts), intent(in), optional, target :: opts
    integer(c_int) :: rc
    integer(c_size_t) :: m
    type(c_ptr) :: o
    rc = eval_args(e, size(inputs), size(out), n, m)
    if (rc /= OMPB_OK) return
    o = c_null_ptr
    if (present(opts)) o = c_loc(opts)
    rc = c_expr_eval_f32(pool%p, e%e, inputs, m, c_loc(out), o)
  end function

  function expr_eval_f64(pool, e, inputs, out, n, opts) result(rc)
    type(ompbatch_pool), intent(in) :: pool
    type(ompbatch_expr), intent(in) :: e
    type(c_ptr), intent(in), contiguous :: inputs(:)
    real(c_double), intent(inout), contiguous, target :: out(..)
    integer, intent(in), optional :: n
    type(ompbatch_map_opts), intent(in), optional, target :: opts
    integer(c_int) :: rc
    integer(c_size_t) :: m
    type(c_ptr) :: o
    rc = eval_args(e, size(inputs), size(out), n, m)
    if (rc /= OMPB_OK) return
    o = c_null_ptr
    if (present(opts)) o = c_loc(opts)
    rc = c_expr_eval_f64(pool%p, e%e, inputs, m, c_loc(out), o)
  end function

  function eval_args(e, ninputs, nout, n, m) result(rc)
    type(ompbatch_expr), intent(in) :: e
    integer, intent(in) :: ninputs, nout
    integer, intent(in), optional :: n
    integer(c_size_t), intent(out) :: m
    integer(c_int) :: rc
    logical :: red
    rc = OMPB_EINVAL
    m = int(nout, c_size_t)
    if (.not. c_associated(e%e)) return
    if (int(ninputs, c_size_t) < c_expr_nvars(e%e)) return
    red = logical(c_expr_is_reduction(e%e))
    if (present(n)) then
      if (n < 0) return
      m = int(n, c_size_t)
      if (.not. red .and. n > nout) return
    else if (red) then
      return
    end if
    if (red .and. nout < 1) return
    rc = OMPB_OK
  end function

end module ompbatch
