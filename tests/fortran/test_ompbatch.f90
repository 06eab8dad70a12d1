! SPDX-License-Identifier: BSD-3-Clause
! The Fortran module against C's layouts and Fortran's intrinsics: struct
! mirrors, pools, batches (values, failures and messages, fail-fast, cancel,
! pause/resume, deadlines, progress, nested in a parallel region), every
! error code the module returns, the SIMD kernels over 2-D and 3-D arrays
! within their documented ULP bounds, and expressions against the same
! formula written in Fortran. Exit status 1 when any check failed.
module test_tasks
  use, intrinsic :: iso_c_binding
  use ompbatch
  implicit none
  integer, parameter :: xp = selected_real_kind(18)
  ! gate: pause test tasks spin until it is 1 (or they are asked to stop).
  integer :: gate = 0
  ! progress reports seen, and the last report's counts.
  integer :: reports = 0
  integer(c_size_t) :: last_completed = 0, last_total = 0
  logical :: progress_user_ok = .true.
  integer, target :: progress_tag = 42
  ! on_result calls
  integer :: on_results = 0
  logical :: task_user_ok = .true.
  ! the Fortran side of the layout list (test_layout)
  integer :: lay_k = 0
  integer(c_size_t) :: lay_f(128) = 0
contains

  subroutine put(s)
    integer(c_size_t), intent(in) :: s
    lay_k = lay_k + 1
    lay_f(lay_k) = s
  end subroutine

  subroutine off(base, field)
    type(c_ptr), intent(in) :: base, field
    integer(c_intptr_t) :: a, b
    a = transfer(base, a)
    b = transfer(field, b)
    lay_k = lay_k + 1
    lay_f(lay_k) = int(b - a, c_size_t)
  end subroutine

  ! value = 2.385 * index + arg (a real(c_double) the arg points to).
  function task_scale(index, arg, value) result(rc) bind(c)
    integer(c_size_t), value :: index
    type(c_ptr), value :: arg
    real(c_double), intent(inout) :: value
    integer(c_int) :: rc
    real(c_double), pointer :: a
    call c_f_pointer(arg, a)
    value = 2.385d0 * real(index, c_double) + a
    rc = 0
  end function

  ! Fails every task whose index is a multiple of 7, with code 7 and a
  ! message naming the index.
  function task_fail7(index, arg, value) result(rc) bind(c)
    integer(c_size_t), value :: index
    type(c_ptr), value :: arg
    real(c_double), intent(inout) :: value
    integer(c_int) :: rc
    character(len=32) :: msg
    if (c_associated(arg)) then
      rc = -100
      return
    end if
    if (mod(index, 7_c_size_t) == 0) then
      write (msg, '(a,i0)') 'bad row ', index
      rc = ompbatch_task_fail(7, msg)
      return
    end if
    value = real(index, c_double)
    rc = 0
  end function

  ! Spins until asked to stop (cancel, deadline), then reports cancelled.
  function task_spin(index, arg, value) result(rc) bind(c)
    integer(c_size_t), value :: index
    type(c_ptr), value :: arg
    real(c_double), intent(inout) :: value
    integer(c_int) :: rc
    do while (.not. ompbatch_should_stop())
    end do
    value = real(index, c_double)
    rc = OMPB_ECANCELED
  end function

  ! Spins until the gate opens; checks ompbatch_task_user on the way.
  function task_gate(index, arg, value) result(rc) bind(c)
    integer(c_size_t), value :: index
    type(c_ptr), value :: arg
    real(c_double), intent(inout) :: value
    integer(c_int) :: rc
    integer :: g
    if (.not. c_associated(ompbatch_task_user(), c_loc(progress_tag))) then
      !$omp atomic write
      task_user_ok = .false.
    end if
    do
      !$omp atomic read
      g = gate
      if (g /= 0 .or. ompbatch_should_stop()) exit
    end do
    value = real(index, c_double)
    rc = 0
  end function

  subroutine on_progress(p, user) bind(c)
    type(ompbatch_progress), intent(in) :: p
    type(c_ptr), value :: user
    !$omp atomic update
    reports = reports + 1
    !$omp atomic write
    last_completed = p%completed
    !$omp atomic write
    last_total = p%total
    if (.not. c_associated(user, c_loc(progress_tag))) then
      !$omp atomic write
      progress_user_ok = .false.
    end if
  end subroutine

  subroutine on_result(r, user) bind(c)
    type(ompbatch_c_task_result), intent(in) :: r
    type(c_ptr), value :: user
    if (r%index < 0 .or. .not. c_associated(user, c_loc(progress_tag))) return
    !$omp atomic update
    on_results = on_results + 1
  end subroutine
end module test_tasks

program test_ompbatch
  use, intrinsic :: iso_c_binding
  use ompbatch
  use test_tasks
  implicit none
  integer :: fails = 0, passes = 0
  type(ompbatch_pool) :: pool

  call test_layout()
  call check(ompbatch_pool_create(pool) == OMPB_OK, 'pool_create')
  call check(ompbatch_pool_workers(pool) >= 1, 'pool_workers')
  call test_pool_opts()
  call test_batch_values()
  call test_batch_failures()
  call test_fail_fast()
  call test_cancel()
  call test_pause_resume()
  call test_deadlines()
  call test_batch_errors()
  call test_nested()
  call test_strings()
  call test_kernels()
  call test_kernel_forms()
  call test_expr()
  call test_expr_errors()
  call ompbatch_pool_destroy(pool)
  call check(ompbatch_pool_workers(pool) == 0, 'pool_destroy_empties_handle')

  print '(a,i0,a,i0,a)', 'fortran: ', passes, ' passed, ', fails, ' failed'
  if (fails > 0) error stop 1

contains

  subroutine check(cond, what)
    logical, intent(in) :: cond
    character(len=*), intent(in) :: what
    if (cond) then
      passes = passes + 1
    else
      fails = fails + 1
      print '(2a)', 'FAIL: ', what
    end if
  end subroutine

  ! ---- layouts --------------------------------------------------------------

  subroutine test_layout()
    interface
      function ompbt_layout(out, cap) result(n) bind(c)
        import :: c_size_t
        integer(c_size_t), intent(out) :: out(*)
        integer(c_size_t), value :: cap
        integer(c_size_t) :: n
      end function
    end interface
    integer(c_size_t) :: c(128), f(128), n
    integer :: k, i
    type(ompbatch_pool_opts), target :: po
    type(ompbatch_batch_opts), target :: bo
    type(ompbatch_map_opts), target :: mo
    type(ompbatch_progress), target :: pr
    type(ompbatch_c_error), target :: er
    type(ompbatch_c_task_result), target :: tr
    type(ompbatch_c_result), target :: rs
    type(ompbatch_c_task), target :: tk
    type(ompbatch_c_kernel_info), target :: ki
    type(ompbatch_c_expr_diag), target :: dg
    integer(c_int) :: u
    logical(c_bool) :: b
    real(c_double) :: v
    call put(c_sizeof(po)); call off(c_loc(po), c_loc(po%workers)); call off(c_loc(po), c_loc(po%no_pin))
    call put(c_sizeof(bo)); call off(c_loc(bo), c_loc(bo%concurrency))
    call off(c_loc(bo), c_loc(bo%fail_fast)); call off(c_loc(bo), c_loc(bo%on_progress))
    call off(c_loc(bo), c_loc(bo%progress_throttle_ms)); call off(c_loc(bo), c_loc(bo%task_timeout_ms))
    call off(c_loc(bo), c_loc(bo%batch_timeout_ms)); call off(c_loc(bo), c_loc(bo%on_result))
    call off(c_loc(bo), c_loc(bo%discard_results)); call off(c_loc(bo), c_loc(bo%result_free))
    call off(c_loc(bo), c_loc(bo%user))
    call put(c_sizeof(mo)); call off(c_loc(mo), c_loc(mo%batch)); call off(c_loc(mo), c_loc(mo%chunk_size))
    call put(c_sizeof(pr)); call off(c_loc(pr), c_loc(pr%completed)); call off(c_loc(pr), c_loc(pr%total))
    call off(c_loc(pr), c_loc(pr%successes)); call off(c_loc(pr), c_loc(pr%failures))
    call off(c_loc(pr), c_loc(pr%percentage)); call off(c_loc(pr), c_loc(pr%estimated_remaining_ms))
    call off(c_loc(pr), c_loc(pr%throughput))
    call put(c_sizeof(er)); call off(c_loc(er), c_loc(er%code)); call off(c_loc(er), c_loc(er%index))
    call off(c_loc(er), c_loc(er%message))
    call put(c_sizeof(tr)); call off(c_loc(tr), c_loc(tr%index)); call off(c_loc(tr), c_loc(tr%status))
    call off(c_loc(tr), c_loc(tr%value)); call off(c_loc(tr), c_loc(tr%error))
    call off(c_loc(tr), c_loc(tr%duration_ms))
    call put(c_sizeof(rs)); call off(c_loc(rs), c_loc(rs%results)); call off(c_loc(rs), c_loc(rs%count))
    call off(c_loc(rs), c_loc(rs%success_count)); call off(c_loc(rs), c_loc(rs%failure_count))
    call off(c_loc(rs), c_loc(rs%cancelled_count)); call off(c_loc(rs), c_loc(rs%duration_ms))
    call off(c_loc(rs), c_loc(rs%all_succeeded)); call off(c_loc(rs), c_loc(rs%cancelled))
    call off(c_loc(rs), c_loc(rs%timed_out))
    call put(c_sizeof(tk)); call off(c_loc(tk), c_loc(tk%method)); call off(c_loc(tk), c_loc(tk%fn))
    call off(c_loc(tk), c_loc(tk%arg)); call off(c_loc(tk), c_loc(tk%arg_free))
    call off(c_loc(tk), c_loc(tk%timeout_ms))
    call put(c_sizeof(ki)); call off(c_loc(ki), c_loc(ki%name)); call off(c_loc(ki), c_loc(ki%arity))
    call off(c_loc(ki), c_loc(ki%nparams)); call off(c_loc(ki), c_loc(ki%ulp_f32))
    call off(c_loc(ki), c_loc(ki%ulp_f64)); call off(c_loc(ki), c_loc(ki%what))
    call off(c_loc(ki), c_loc(ki%f32)); call off(c_loc(ki), c_loc(ki%f64))
    call off(c_loc(ki), c_loc(ki%f32_2)); call off(c_loc(ki), c_loc(ki%f64_2))
    call put(c_sizeof(dg)); call off(c_loc(dg), c_loc(dg%pos)); call off(c_loc(dg), c_loc(dg%message))
    call put(c_sizeof(u)); call put(c_sizeof(b)); call put(c_sizeof(v))
    k = lay_k
    f = lay_f
    n = ompbt_layout(c, 128_c_size_t)
    call check(int(n) == k, 'layout_entry_count')
    do i = 1, min(k, int(n))
      if (c(i) /= f(i)) print '(a,i0,a,i0,a,i0)', 'layout entry ', i, ': C ', c(i), ' Fortran ', f(i)
    end do
    call check(all(c(1:min(k, int(n))) == f(1:min(k, int(n)))), 'layout_matches_c_structs')
  end subroutine

  ! ---- pools and batches -------------------------------------------------------

  subroutine test_pool_opts()
    type(ompbatch_pool) :: p
    type(ompbatch_pool_opts) :: o
    o%workers = 3
    o%no_pin = .true.
    call check(ompbatch_pool_create(p, o) == OMPB_OK, 'pool_create_opts')
    call check(ompbatch_pool_workers(p) == 3, 'pool_workers_from_opts')
    call ompbatch_pool_destroy(p)
    o%workers = 5000
    call check(ompbatch_pool_create(p, o) == OMPB_EINVAL, 'pool_create_too_many_workers_einval')
  end subroutine

  subroutine test_batch_values()
    integer, parameter :: n = 1000
    real(c_double), target :: base(n)
    type(c_ptr) :: args(n)
    type(ompbatch_result) :: r
    type(ompbatch_batch_opts) :: o
    integer :: i, rc
    do i = 1, n
      base(i) = 0.5d0 * i
      args(i) = c_loc(base(i))
    end do
    o%on_progress = c_funloc(on_progress)
    o%on_result = c_funloc(on_result)
    o%progress_throttle_ms = 1
    o%user = c_loc(progress_tag)
    reports = 0
    on_results = 0
    rc = ompbatch_exec_batch(pool, task_scale, n, r, args, o)
    call check(rc == OMPB_OK, 'batch_values_rc')
    call check(r%count == n .and. r%success_count == n .and. r%all_succeeded, 'batch_values_counts')
    call check(size(r%values) == n .and. all(r%status == 0), 'batch_values_status')
    call check(all(r%values == [(2.385d0 * i + 0.5d0 * i, i = 1, n)]), 'batch_values_in_task_order')
    call check(all(r%durations_ms >= 0), 'batch_values_durations')
    call check(reports >= 1 .and. last_completed == n .and. last_total == n, 'batch_progress_final_report')
    call check(progress_user_ok, 'batch_progress_gets_user')
    call check(on_results == n, 'batch_on_result_once_per_task')
    call ompbatch_result_free(r)
    call check(r%count == 0 .and. .not. allocated(r%values), 'result_free_empties')
    ! without args, and with discard_results: counts only
    o = ompbatch_batch_opts()
    o%discard_results = .true.
    rc = ompbatch_exec_batch(pool, task_fail7, 20, r, opts=o)
    call check(rc == OMPB_OK .and. r%success_count == 18 .and. r%failure_count == 2, 'batch_discard_counts')
    call check(size(r%status) == 0, 'batch_discard_no_arrays')
    call ompbatch_result_free(r)
    ! an empty batch
    rc = ompbatch_exec_batch(pool, task_scale, 0, r)
    call check(rc == OMPB_OK .and. r%count == 0 .and. r%all_succeeded, 'batch_empty')
    call ompbatch_result_free(r)
  end subroutine

  subroutine test_batch_failures()
    integer, parameter :: n = 50
    type(ompbatch_result) :: r
    character(len=64) :: msg, want
    integer :: i, rc, bad, code, got
    logical :: ok
    rc = ompbatch_exec_batch(pool, task_fail7, n, r)
    call check(rc == OMPB_OK, 'batch_failures_rc_ok_without_fail_fast')
    call check(r%failure_count == n / 7 .and. r%success_count == n - n / 7, 'batch_failures_counts')
    call check(.not. r%all_succeeded .and. .not. r%cancelled, 'batch_failures_flags')
    ok = .true.
    bad = 0
    do i = 1, n
      if (mod(i, 7) == 0) then
        write (want, '(a,i0)') 'bad row ', i
        if (r%status(i) /= 7) ok = .false.
        got = ompbatch_result_message(r, i, msg)
        if (got /= len_trim(want) .or. msg /= want) ok = .false.
        got = ompbatch_result_error_index(r, i, code)
        if (got /= i .or. code /= 7) ok = .false.
        bad = bad + 1
      else
        if (r%status(i) /= 0 .or. r%values(i) /= i) ok = .false.
        if (ompbatch_result_message(r, i, msg) /= 0 .or. ompbatch_result_error_index(r, i) /= 0) ok = .false.
      end if
    end do
    call check(ok .and. bad == n / 7, 'batch_failures_status_and_messages')
    i = ompbatch_result_message(r, 14, msg)
    call check(msg == 'bad row 14', 'batch_failure_message_text')
    call check(ompbatch_result_message(r, 0, msg) == 0 .and. ompbatch_result_message(r, n + 1, msg) == 0, &
      'batch_failure_message_out_of_range')
    call ompbatch_result_free(r)
  end subroutine

  subroutine test_fail_fast()
    type(ompbatch_result) :: r
    type(ompbatch_batch_opts) :: o
    integer :: rc
    o%fail_fast = .true.
    o%concurrency = 1
    rc = ompbatch_exec_batch(pool, task_fail7, 100, r, opts=o)
    call check(rc == 7, 'fail_fast_returns_task_code')
    call check(r%cancelled .and. r%failure_count >= 1 .and. r%cancelled_count >= 1, 'fail_fast_skips_pending')
    call check(r%status(7) == 7, 'fail_fast_first_failure_recorded')
    call ompbatch_result_free(r)
  end subroutine

  subroutine test_cancel()
    integer, parameter :: n = 64
    type(ompbatch_batch) :: b
    type(ompbatch_result) :: r
    type(ompbatch_progress) :: p
    integer :: rc
    rc = ompbatch_batch_start(pool, task_spin, n, b)
    call check(rc == OMPB_OK, 'cancel_start')
    call check(ompbatch_batch_cancel(b) == OMPB_OK, 'cancel_rc')
    call check(ompbatch_batch_cancel(b) == OMPB_OK, 'cancel_idempotent')
    rc = ompbatch_batch_wait(b, r)
    call check(rc == OMPB_OK .and. r%cancelled .and. .not. r%timed_out, 'cancel_wait_ok_and_cancelled')
    call check(r%cancelled_count == n .and. all(r%status == OMPB_ECANCELED), 'cancel_every_task_cancelled')
    call check(ompbatch_batch_progress(b, p) == OMPB_OK, 'cancel_progress_after_rc')
    call check(p%total == n .and. p%completed <= n, 'cancel_progress_after')
    call check(ompbatch_batch_wait(b, r) == OMPB_ESTATE, 'wait_twice_estate')
    call check(ompbatch_batch_cancel(b) == OMPB_OK, 'cancel_finished_is_noop')
    call ompbatch_batch_free(b)
    call ompbatch_result_free(r)
    call check(ompbatch_batch_cancel(b) == OMPB_EINVAL, 'cancel_empty_handle_einval')
  end subroutine

  subroutine test_pause_resume()
    integer, parameter :: n = 40
    type(ompbatch_batch) :: b
    type(ompbatch_result) :: r
    type(ompbatch_batch_opts) :: o
    integer :: rc, i
    !$omp atomic write
    gate = 0
    o%user = c_loc(progress_tag)
    rc = ompbatch_batch_start(pool, task_gate, n, b, opts=o)
    call check(rc == OMPB_OK, 'pause_start')
    call check(ompbatch_batch_pause(b) == OMPB_OK, 'pause_rc')
    call check(ompbatch_batch_is_paused(b), 'pause_is_paused')
    call check(ompbatch_batch_pause(b) == OMPB_OK, 'pause_idempotent')
    !$omp atomic write
    gate = 1
    call check(ompbatch_batch_resume(b) == OMPB_OK, 'resume_rc')
    call check(.not. ompbatch_batch_is_paused(b), 'resume_not_paused')
    rc = ompbatch_batch_wait(b, r)
    call check(rc == OMPB_OK .and. r%all_succeeded .and. r%success_count == n, 'pause_resume_all_run')
    call check(all(r%values == [(real(i, c_double), i = 1, n)]), 'pause_resume_values')
    call check(task_user_ok, 'task_user_is_opts_user')
    call check(ompbatch_batch_pause(b) == OMPB_OK, 'pause_finished_rc')
    call check(.not. ompbatch_batch_is_paused(b), 'pause_finished_noop')
    call check(ompbatch_batch_resume(b) == OMPB_OK, 'resume_without_pause_ok')
    call ompbatch_batch_free(b)
    call ompbatch_result_free(r)
    call check(ompbatch_batch_pause(b) == OMPB_EINVAL, 'pause_empty_handle_einval')
    call check(ompbatch_batch_resume(b) == OMPB_EINVAL, 'resume_empty_handle_einval')
    call check(.not. ompbatch_batch_is_paused(b), 'is_paused_empty_handle')
  end subroutine

  subroutine test_deadlines()
    type(ompbatch_result) :: r
    type(ompbatch_batch_opts) :: o
    integer :: rc
    o%task_timeout_ms = 2
    rc = ompbatch_exec_batch(pool, task_spin, 6, r, opts=o)
    call check(rc == OMPB_OK .and. r%failure_count == 6, 'task_deadline_fails_each_task')
    call check(all(r%status == OMPB_ETIMEDOUT), 'task_deadline_status_etimedout')
    call ompbatch_result_free(r)
    o = ompbatch_batch_opts()
    o%batch_timeout_ms = 5
    rc = ompbatch_exec_batch(pool, task_spin, 6, r, opts=o)
    call check(rc == OMPB_ETIMEDOUT .and. r%timed_out .and. r%cancelled, 'batch_deadline_etimedout')
    call ompbatch_result_free(r)
  end subroutine

  subroutine test_batch_errors()
    type(ompbatch_batch) :: b
    type(ompbatch_result) :: r
    type(ompbatch_batch_opts) :: o
    type(ompbatch_pool) :: none
    type(c_ptr) :: args(2)
    args = c_null_ptr
    call check(ompbatch_batch_start(pool, task_scale, -1, b) == OMPB_EINVAL, 'start_negative_n_einval')
    call check(ompbatch_batch_start(pool, task_scale, 3, b, args) == OMPB_EINVAL, 'start_short_args_einval')
    o%task_timeout_ms = -1
    call check(ompbatch_batch_start(pool, task_scale, 1, b, opts=o) == OMPB_EINVAL, 'start_negative_timeout_einval')
    call check(.not. c_associated(b%b), 'start_failure_leaves_handle_empty')
    call check(ompbatch_exec_batch(none, task_scale, 1, r) == OMPB_EINVAL, 'start_empty_pool_einval')
    call check(ompbatch_batch_wait(b, r) == OMPB_EINVAL, 'wait_empty_handle_einval')
    call ompbatch_batch_free(b)
  end subroutine

  ! A batch started under `omp single` in the caller's own parallel region
  ! runs in the caller's team; a second one per thread runs nested too.
  subroutine test_nested()
    integer, parameter :: n = 200
    real(c_double), target :: base(n)
    type(c_ptr) :: args(n)
    integer :: rc1, i, bad
    integer(c_size_t) :: succ
    type(ompbatch_result) :: r
    do i = 1, n
      base(i) = i
      args(i) = c_loc(base(i))
    end do
    rc1 = -99
    succ = 0
    bad = 0
    !$omp parallel private(r) reduction(+:bad)
    !$omp single
    rc1 = ompbatch_exec_batch(pool, task_scale, n, r, args)
    succ = r%success_count
    call ompbatch_result_free(r)
    !$omp end single
    if (ompbatch_exec_batch(pool, task_fail7, 14, r) /= OMPB_OK) bad = bad + 1
    if (r%failure_count /= 2 .or. r%success_count /= 12) bad = bad + 1
    call ompbatch_result_free(r)
    !$omp end parallel
    call check(rc1 == OMPB_OK .and. succ == n, 'nested_single_batch')
    call check(bad == 0, 'nested_batch_per_thread')
  end subroutine

  subroutine test_strings()
    character(len=64) :: s
    integer :: n
    n = ompbatch_strerror(OMPB_EINVAL, s)
    call check(s == 'invalid argument' .and. n == 16, 'strerror')
    n = ompbatch_err_name(OMPB_ECANCELED, s)
    call check(s == 'OMPB_ECANCELED', 'err_name')
    n = ompbatch_simd_isa(s)
    call check(n > 0 .and. (s == 'scalar' .or. s == 'sse2' .or. s == 'avx2' .or. s == 'avx512f'), 'simd_isa')
  end subroutine

  ! ---- kernels ---------------------------------------------------------------------

  ! A reproducible uniform number in [lo, hi).
  function uni(state, lo, hi) result(v)
    integer(c_int64_t), intent(inout) :: state
    real(xp), intent(in) :: lo, hi
    real(xp) :: v
    state = state * 6364136223846793005_c_int64_t + 1442695040888963407_c_int64_t
    v = lo + (hi - lo) * real(ishft(state, -11), xp) / 2.0_xp**53
  end function

  function ref(name, x) result(y)
    character(len=*), intent(in) :: name
    real(xp), intent(in) :: x
    real(xp) :: y
    select case (name)
    case ('sin'); y = sin(x)
    case ('cos'); y = cos(x)
    case ('tan'); y = tan(x)
    case ('asin'); y = asin(x)
    case ('acos'); y = acos(x)
    case ('atan'); y = atan(x)
    case ('sinh'); y = sinh(x)
    case ('cosh'); y = cosh(x)
    case ('tanh'); y = tanh(x)
    case ('exp'); y = exp(x)
    case ('exp2'); y = 2.0_xp**x
    case ('log'); y = log(x)
    case ('log2'); y = log(x) / log(2.0_xp)
    case ('log10'); y = log10(x)
    case ('sqrt'); y = sqrt(x)
    case ('erf'); y = erf(x)
    case ('erfc'); y = erfc(x)
    case ('abs'); y = abs(x)
    case default; y = huge(x)
    end select
  end function

  ! Every kernel listed, f32 over a 2-D array and f64 over a 3-D one,
  ! against the intrinsic in extended precision: the error in ULPs of the
  ! result must stay within the kernel's documented bound.
  subroutine test_kernels()
    character(len=8), parameter :: names(18) = [character(len=8) :: 'sin', 'cos', 'tan', &
      'asin', 'acos', 'atan', 'sinh', 'cosh', 'tanh', 'exp', 'exp2', 'log', 'log2', &
      'log10', 'sqrt', 'erf', 'erfc', 'abs']
    real(xp), parameter :: lo(18) = [real(xp) :: -10, -10, -1.5, -1, -1, -20, -5, -5, -5, -20, -20, &
      0, 0, 0, 0, -3, -3, -100]
    real(xp), parameter :: hi(18) = [real(xp) :: 10, 10, 1.5, 1, 1, 20, 5, 5, 5, 20, 20, 100, 100, &
      100, 100, 3, 3, 100]
    real(c_float), allocatable :: x4(:, :), y4(:, :)
    real(c_double), allocatable :: x8(:, :, :), y8(:, :, :)
    real(c_double) :: u4, u8
    real(xp) :: e4, e8, r
    integer(c_int64_t) :: st
    integer :: k, i, j, l, rc1, rc2
    allocate(x4(37, 29), y4(37, 29), x8(11, 7, 13), y8(11, 7, 13))
    do k = 1, size(names)
      st = 12345 + k
      call check(ompbatch_kernel_ulp(trim(names(k)), u4, u8) == OMPB_OK, 'kernel_ulp_' // trim(names(k)))
      do j = 1, 29
        do i = 1, 37
          x4(i, j) = real(uni(st, lo(k), hi(k)), c_float)
          if (x4(i, j) <= 0 .and. lo(k) == 0) x4(i, j) = 0.5
        end do
      end do
      do l = 1, 13
        do j = 1, 7
          do i = 1, 11
            x8(i, j, l) = real(uni(st, lo(k), hi(k)), c_double)
            if (x8(i, j, l) <= 0 .and. lo(k) == 0) x8(i, j, l) = 0.5d0
          end do
        end do
      end do
      rc1 = ompbatch_map(names(k), x4, y4)
      rc2 = ompbatch_map(names(k), x8, y8)
      call check(rc1 == OMPB_OK .and. rc2 == OMPB_OK, 'kernel_map_rc_' // trim(names(k)))
      e4 = 0
      do j = 1, 29
        do i = 1, 37
          r = ref(names(k), real(x4(i, j), xp))
          e4 = max(e4, abs(real(y4(i, j), xp) - r) / spacing(real(r, c_float)))
        end do
      end do
      e8 = 0
      do l = 1, 13
        do j = 1, 7
          do i = 1, 11
            r = ref(names(k), real(x8(i, j, l), xp))
            e8 = max(e8, abs(real(y8(i, j, l), xp) - r) / spacing(real(r, c_double)))
          end do
        end do
      end do
      if (e4 > u4 + 0.01_xp .or. e8 > u8 + 0.01_xp) &
        print '(a,a8,4(a,f8.3))', 'kernel ', names(k), ' f32 ', real(e4), ' ulp (bound ', u4, &
          ') f64 ', real(e8), ' ulp (bound ', u8
      call check(e4 <= u4 + 0.01_xp, 'kernel_f32_within_ulp_' // trim(names(k)))
      call check(e8 <= u8 + 0.01_xp, 'kernel_f64_within_ulp_' // trim(names(k)))
    end do
  end subroutine

  ! In place, on a pool, params, two-input kernels, sections, errors.
  subroutine test_kernel_forms()
    real(c_float), target :: a(30, 20), b(30, 20), c(30, 20), d(30, 20)
    real(c_double), target :: a8(500), b8(500), c8(500)
    real(c_double) :: u4, u8
    type(ompbatch_map_opts) :: mo
    real(xp) :: e, r
    integer :: i, j, np
    do j = 1, 20
      do i = 1, 30
        a(i, j) = 0.37 * i - 0.61 * j
        b(i, j) = 0.23 * j + 0.05 * i - 2
      end do
    end do
    do i = 1, 500
      a8(i) = 0.0137d0 * i - 3
    end do
    ! in place equals out of place, bit for bit
    call check(ompbatch_map('exp', a, c) == OMPB_OK, 'map_exp_f32')
    d = a
    call check(ompbatch_map('exp', d) == OMPB_OK, 'map_in_place_rc')
    call check(all(d == c), 'map_in_place_same_bits')
    ! on the pool equals on the calling thread
    d = 0
    call check(ompbatch_map('exp', a, d, pool=pool) == OMPB_OK, 'map_pool_rc')
    call check(all(d == c), 'map_pool_same_bits')
    mo%chunk_size = 7
    c8 = 0
    call check(ompbatch_map('sin', a8, c8, pool=pool, opts=mo) == OMPB_OK, 'map_pool_chunked_rc')
    call check(ompbatch_map('sin', a8, b8) == OMPB_OK, 'map_sin_f64_rc')
    call check(all(b8 == c8), 'map_pool_chunked_same_bits')
    ! a section (the compiler packs it)
    c = -1
    call check(ompbatch_map('sin', a(1:30:3, :), c(1:10, :)) == OMPB_OK, 'map_section_rc')
    call check(ompbatch_map('sin', a, d) == OMPB_OK, 'map_section_reference')
    call check(all(c(1:10, :) == d(1:30:3, :)) .and. all(c(11:, :) == -1), 'map_section_values')
    ! params: affine a*x+b, one rounding
    call check(ompbatch_map('affine', a, c, params=[2.5_c_float, -1.0_c_float]) == OMPB_OK, 'map_affine_rc')
    e = 0
    do j = 1, 20
      do i = 1, 30
        r = 2.5_xp * real(a(i, j), xp) - 1
        e = max(e, abs(real(c(i, j), xp) - r) / spacing(real(r, c_float)))
      end do
    end do
    call check(e <= 0.5_xp, 'map_affine_within_half_ulp')
    call check(ompbatch_map('affine', a, c, params=[2.0_c_float]) == OMPB_EINVAL, 'map_too_few_params_einval')
    call check(ompbatch_map('affine', a, c) == OMPB_OK, 'map_no_params_rc')
    call check(all(c == a), 'map_no_params_identity')
    call check(ompbatch_kernel_ulp('affine', u4, u8, nparams=np) == OMPB_OK, 'kernel_nparams_rc')
    call check(np == 2, 'kernel_nparams')
    call check(ompbatch_map('pow', a8, c8, params=[2.0_c_double]) == OMPB_OK, 'map_pow_param_rc')
    call check(all(abs(c8 - a8 * a8) <= spacing(a8 * a8)), 'map_pow_param_values')
    ! two-input kernels
    call check(ompbatch_map2('atan2', a, b, c) == OMPB_OK, 'map2_atan2_rc')
    call check(ompbatch_kernel_ulp('atan2', u4, u8, arity=2) == OMPB_OK, 'map2_atan2_ulp')
    e = 0
    do j = 1, 20
      do i = 1, 30
        r = atan2(real(a(i, j), xp), real(b(i, j), xp))
        e = max(e, abs(real(c(i, j), xp) - r) / spacing(real(r, c_float)))
      end do
    end do
    call check(e <= u4 + 0.01_xp, 'map2_atan2_within_ulp')
    b8 = a8 * 0.5d0 + 1
    call check(ompbatch_map2('hypot', a8, b8, c8) == OMPB_OK, 'map2_hypot_rc')
    call check(ompbatch_kernel_ulp('hypot', u4, u8, arity=2) == OMPB_OK, 'map2_hypot_ulp')
    e = 0
    do i = 1, 500
      r = sqrt(real(a8(i), xp)**2 + real(b8(i), xp)**2)
      e = max(e, abs(real(c8(i), xp) - r) / spacing(real(r, c_double)))
    end do
    call check(e <= u8 + 0.01_xp, 'map2_hypot_within_ulp')
    call check(ompbatch_map2('mul', a, b, c) == OMPB_OK, 'map2_mul_rc')
    call check(all(c == a * b), 'map2_mul_exact')
    ! errors
    call check(ompbatch_map('no_such_kernel', a, c) == OMPB_EINVAL, 'map_unknown_kernel_einval')
    call check(ompbatch_map2('sin', a, b, c) == OMPB_EINVAL, 'map2_unary_name_einval')
    call check(ompbatch_map('sin', a, c(1:10, :)) == OMPB_EINVAL, 'map_size_mismatch_einval')
    call check(ompbatch_map2('add', a, b(1:10, :), c) == OMPB_EINVAL, 'map2_size_mismatch_einval')
    call check(ompbatch_kernel_ulp('no_such_kernel', u4, u8) == OMPB_EINVAL, 'kernel_ulp_unknown_einval')
    call check(ompbatch_map('sin   ', a, c) == OMPB_OK, 'map_name_trailing_blanks')
  end subroutine

  ! ---- expressions -----------------------------------------------------------------

  subroutine test_expr()
    integer, parameter :: m = 40, k = 25
    real(c_float), target :: x(m, k), y(m, k), o4(m, k)
    real(c_double), target :: x8(m, k), y8(m, k), o8(m, k), s8(1)
    real(c_float), target :: s4(1)
    type(ompbatch_expr) :: e
    real(xp) :: r, t, eps4, eps8
    logical :: ok4, ok8
    integer :: i, j, rc
    eps4 = epsilon(1.0_c_float)
    eps8 = epsilon(1.0_c_double)
    do j = 1, k
      do i = 1, m
        x8(i, j) = 0.093d0 * i - 0.047d0 * j - 1.2d0
        y8(i, j) = 0.031d0 * j - 0.011d0 * i + 0.3d0
      end do
    end do
    x = real(x8, c_float)
    y = real(y8, c_float)
    rc = ompbatch_expr_compile(e, '2*sin(x) + exp(-x*y)', ['x', 'y'])
    call check(rc == OMPB_OK .and. .not. ompbatch_expr_is_reduction(e), 'expr_compile')
    call check(ompbatch_expr_eval(pool, e, [c_loc(x), c_loc(y)], o4) == OMPB_OK, 'expr_eval_f32_rc')
    call check(ompbatch_expr_eval(pool, e, [c_loc(x8), c_loc(y8)], o8) == OMPB_OK, 'expr_eval_f64_rc')
    ok4 = .true.
    ok8 = .true.
    do j = 1, k
      do i = 1, m
        r = 2 * sin(real(x(i, j), xp)) + exp(-real(x(i, j), xp) * real(y(i, j), xp))
        t = 2 * abs(sin(real(x(i, j), xp))) + exp(-real(x(i, j), xp) * real(y(i, j), xp)) * &
          (1 + abs(real(x(i, j), xp) * real(y(i, j), xp)))
        if (abs(o4(i, j) - r) > 4 * eps4 * t) ok4 = .false.
        r = 2 * sin(real(x8(i, j), xp)) + exp(-real(x8(i, j), xp) * real(y8(i, j), xp))
        t = 2 * abs(sin(real(x8(i, j), xp))) + exp(-real(x8(i, j), xp) * real(y8(i, j), xp)) * &
          (1 + abs(real(x8(i, j), xp) * real(y8(i, j), xp)))
        if (abs(o8(i, j) - r) > 4 * eps8 * t) ok8 = .false.
      end do
    end do
    call check(ok4, 'expr_f32_matches_fortran')
    call check(ok8, 'expr_f64_matches_fortran')
    call ompbatch_expr_free(e)
    call check(.not. c_associated(e%e), 'expr_free_empties')

    ! where(), with the variables in another order than the formula's
    rc = ompbatch_expr_compile(e, 'where(x > 0, log(x), -x) + 0*y', ['y', 'x'])
    call check(rc == OMPB_OK, 'expr_where_compile')
    call check(ompbatch_expr_eval(pool, e, [c_loc(y8), c_loc(x8)], o8) == OMPB_OK, 'expr_where_rc')
    ok8 = .true.
    do j = 1, k
      do i = 1, m
        if (x8(i, j) > 0) then
          r = log(real(x8(i, j), xp))
        else
          r = -x8(i, j)
        end if
        if (abs(o8(i, j) - r) > 2 * spacing(real(r, c_double))) ok8 = .false.
      end do
    end do
    call check(ok8, 'expr_where_matches_fortran')
    call ompbatch_expr_free(e)

    ! in place: out is the input
    o8 = x8
    rc = ompbatch_expr_compile(e, 'x*x*2.5 + 1', ['x'])
    call check(ompbatch_expr_eval(pool, e, [c_loc(o8)], o8) == OMPB_OK, 'expr_in_place_rc')
    call check(all(abs(o8 - (x8 * x8 * 2.5d0 + 1)) <= 2 * spacing(x8 * x8 * 2.5d0 + 1)), 'expr_in_place_values')
    call ompbatch_expr_free(e)

    ! reductions
    rc = ompbatch_expr_compile(e, 'sum(x*y)', ['x', 'y'])
    call check(rc == OMPB_OK .and. ompbatch_expr_is_reduction(e), 'expr_sum_compile')
    call check(ompbatch_expr_eval(pool, e, [c_loc(x8), c_loc(y8)], s8, n=m * k) == OMPB_OK, 'expr_sum_rc')
    r = sum(real(x8, xp) * real(y8, xp))
    call check(abs(s8(1) - r) <= m * k * eps8 * sum(abs(x8 * y8)), 'expr_sum_matches_fortran')
    call check(ompbatch_expr_eval(pool, e, [c_loc(x), c_loc(y)], s4, n=m * k) == OMPB_OK, 'expr_sum_f32_rc')
    call check(abs(s4(1) - r) <= 2 * eps4 * sum(abs(x8 * y8)), 'expr_sum_f32_matches_fortran')
    call check(ompbatch_expr_eval(pool, e, [c_loc(x8), c_loc(y8)], s8) == OMPB_EINVAL, 'expr_reduction_needs_n')
    call ompbatch_expr_free(e)
    rc = ompbatch_expr_compile(e, 'max(x)', ['x'])
    call check(ompbatch_expr_eval(pool, e, [c_loc(x)], s4, n=m * k) == OMPB_OK, 'expr_max_rc')
    call check(s4(1) == maxval(x), 'expr_max_exact')
    call ompbatch_expr_free(e)

    ! from inside the caller's parallel region
    rc = ompbatch_expr_compile(e, 'sqrt(x*x + y*y)', ['x', 'y'])
    ok8 = .true.
    !$omp parallel
    !$omp single
    if (ompbatch_expr_eval(pool, e, [c_loc(x8), c_loc(y8)], o8) /= OMPB_OK) ok8 = .false.
    !$omp end single
    !$omp end parallel
    call check(ok8, 'expr_nested_rc')
    call check(all(abs(o8 - sqrt(x8 * x8 + y8 * y8)) <= 2 * spacing(sqrt(x8 * x8 + y8 * y8))), 'expr_nested_values')
    call ompbatch_expr_free(e)
  end subroutine

  subroutine test_expr_errors()
    type(ompbatch_expr) :: e
    character(len=160) :: msg
    real(c_double), target :: x(10), o(10)
    integer :: pos, rc
    character(len=*), parameter :: s1 = '2*sin(x) + z'
    x = 1
    rc = ompbatch_expr_compile(e, s1, ['x'], pos, msg)
    call check(rc == OMPB_EINVAL .and. pos == index(s1, 'z') .and. len_trim(msg) > 0, 'expr_unknown_name_position')
    call check(.not. c_associated(e%e), 'expr_failure_leaves_empty')
    rc = ompbatch_expr_compile(e, 'x + * x', ['x'], pos, msg)
    call check(rc == OMPB_EINVAL .and. pos == 5 .and. len_trim(msg) > 0, 'expr_syntax_error_position')
    rc = ompbatch_expr_compile(e, 'nosuch(x)', ['x'], pos, msg)
    call check(rc == OMPB_EINVAL .and. pos == 1, 'expr_unknown_function_position')
    rc = ompbatch_expr_compile(e, 'x', ['1x'], pos, msg)
    call check(rc == OMPB_EINVAL .and. pos == 1 .and. index(msg, '1x') > 0, 'expr_bad_variable_name')
    rc = ompbatch_expr_compile(e, '', ['x'], pos, msg)
    call check(rc == OMPB_EINVAL, 'expr_empty_einval')
    rc = ompbatch_expr_compile(e, 'x + y', ['x', 'y'])
    call check(ompbatch_expr_eval(pool, e, [c_loc(x)], o) == OMPB_EINVAL, 'expr_too_few_inputs_einval')
    call check(ompbatch_expr_eval(pool, e, [c_loc(x), c_loc(x)], o, n=11) == OMPB_EINVAL, 'expr_n_beyond_out_einval')
    o = 0
    call check(ompbatch_expr_eval(pool, e, [c_loc(x), c_loc(x)], o, n=4) == OMPB_OK, 'expr_explicit_n_rc')
    call check(all(o(1:4) == 2) .and. all(o(5:) == 0), 'expr_explicit_n')
    call ompbatch_expr_free(e)
    call check(ompbatch_expr_eval(pool, e, [c_loc(x)], o) == OMPB_EINVAL, 'expr_eval_empty_handle_einval')
  end subroutine

end program test_ompbatch
